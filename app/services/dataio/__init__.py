"""Data in and out: CSV/XLSX reading and writing, product and price imports with preview, and exports that re-import unchanged."""
