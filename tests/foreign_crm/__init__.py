"""A second CRM fixture, shaped the way a foreign system is: own table and column names, text timestamps,
upper-case and space-padded vocabularies, NULLs, duplicated rows. rules/sources.yaml maps it (sources.yaml here).
"""
