"""GTIN (EAN-8, UPC-A, EAN-13, GTIN-14) barcodes: check digit per GS1."""


def check_digit(body: str) -> int:
    """The GS1 check digit for the digits before it (weights 3,1,3,… from the right)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def is_valid_gtin(code: str) -> bool:
    return code.isdigit() and len(code) in (8, 12, 13, 14) and check_digit(code[:-1]) == int(code[-1])


def with_check_digit(body: str) -> str:
    return body + str(check_digit(body))
