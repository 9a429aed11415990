"""The catalog: categories, products and their images, visibility rules, search helpers, and the storefront a buyer browses."""
