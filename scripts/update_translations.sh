#!/usr/bin/env bash
# Re-extract the Chinese source strings and merge them into the English catalog; then fill the
# empty msgstr entries in translations/en/LC_MESSAGES/messages.po and run `make translations`.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location -o /tmp/lianying-messages.pot .
.venv/bin/pybabel update -i /tmp/lianying-messages.pot -d translations -l en --no-fuzzy-matching
