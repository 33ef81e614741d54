package io.messagestore.server.archive;

/**
 * ClickHouse does not hold a copied message with the bytes it was given (absent, or another
 * fingerprint): the copy is not trusted, and the message stays in PostgreSQL.
 */
final class ArchiveMismatchException extends Exception {
  private static final long serialVersionUID = 1L;

  ArchiveMismatchException(String message) {
    super(message);
  }
}
