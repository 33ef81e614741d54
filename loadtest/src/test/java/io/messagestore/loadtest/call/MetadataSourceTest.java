package io.messagestore.loadtest.call;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class MetadataSourceTest {

  @Test
  void reportsShowCredentialsMaskedAndOtherHeadersAsGiven() {
    MetadataSource headers = MetadataSource.parse("""
        {"authorization":"Bearer eyJhbGciOi.secret.part","x-api-key":"k-123",
         "x-session-token":"abc","x-user-id":"alice"}""");

    assertThat(headers.forReport())
        .containsEntry("authorization", "Bearer ***")
        .containsEntry("x-api-key", "***")
        .containsEntry("x-session-token", "***")
        .containsEntry("x-user-id", "alice");
    assertThat(headers.forReport().toString()).doesNotContain("eyJhbGciOi", "k-123", "abc");
  }
}
