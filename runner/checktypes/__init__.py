"""The generic check types (SodaCL-like): each compiles to SQL the source executes.

row_count, new_rows and metric measure an aggregate; freshness the age of the newest row;
ratio a share of rows in percent; failed_rows counts the rows a query returns; anomaly
compares the current period with the last N (3 sigma, above a minimum volume).
"""
