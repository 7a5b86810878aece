"""The Sigma rule pack written for Canh Gác: YAML rules and their fixtures, shipped as package data."""
