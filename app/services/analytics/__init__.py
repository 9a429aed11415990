"""Analytics: daily fact tables kept by jobs (`facts`), and the reports that read only them
(`sales`). Reports never scan the order tables by day."""
