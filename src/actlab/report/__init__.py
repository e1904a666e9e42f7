"""The report kit: sections as data (`kit`), figure helpers (`figures`, `cd_diagram`), the one HTML
renderer (`render`), and the sections that read only the analyser (`catalog`, `depth`). It knows no study:
the report page is assembled from the studies' sections by `actlab.studies.page`."""
