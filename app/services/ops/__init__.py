"""Operations: backups of the database and the uploaded files, their restore and verification."""
