"""The dry run (the SAP "test contour"): a campaign's launch figures computed against its source.

figures.py sends the SQL (aggregated at the source), exclusions.py says which target-group members
the launch would skip and why, report.py writes the figures for people and programs, record.py
keeps them as a test launch in the state store.
"""
