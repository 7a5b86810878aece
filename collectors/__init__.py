"""Sources (file tail, …) and parsers (transforms) that turn log lines into ECS events."""
