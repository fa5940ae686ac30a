"""The `report` command: the hourly operational report of the SAP article, and slices of problems over time.

`hourly` and `slices` read the state store into plain data; `render` turns that data into text,
Markdown, HTML (Jinja2 templates in templates/) or CSV.
"""
