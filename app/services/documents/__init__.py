"""PDF documents (invoice, delivery note, order sheet, pick list): who may see them, their job states, and their rendering."""
