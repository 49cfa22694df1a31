"""Reports for people: the exception report (csv/xlsx/html with crops), the staff-decision loop
(importing a reviewed exceptions.xlsx back as labels) and the pilot evaluation report.

Every text written here is for Japanese staff; 個人番号 never leaves this package unmasked.
"""
