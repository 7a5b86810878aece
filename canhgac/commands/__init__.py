"""The ``canhgac`` subcommands; each module registers its own arguments."""
