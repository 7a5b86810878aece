"""The roles of a distributed deployment (issue 12): ``collect`` at the edge, ``worker`` in the cluster."""
