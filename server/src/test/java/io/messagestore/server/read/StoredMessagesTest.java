package io.messagestore.server.read;

import static org.assertj.core.api.Assertions.assertThat;

import io.messagestore.api.v1.GetMessageResponse;
import io.messagestore.api.v1.ListMessagesResponse;
import io.messagestore.api.v1.Message;
import io.messagestore.api.v1.Role;
import io.messagestore.api.v1.Tier;
import java.util.List;
import org.junit.jupiter.api.Test;

class StoredMessagesTest {
  final Message a = Message.newBuilder().setMessageId("01a21c95-31b8-77f9-a76e-c62a4aa5eebb").setThreadId("t")
      .setUserId("alice").setRole(Role.ROLE_USER).setContent("héllo").putMetadata("k", "v").build();
  final Message b = a.toBuilder().setMessageId("01a21c95-31b8-77f9-a76e-c62a4aa5eebc").setContent("second").build();

  @Test
  void clientsReadStoredBytesAsTheMessageField() throws Exception {
    GetMessageResponse sent = StoredMessages.getResponse(a.toByteArray(), Tier.TIER_REDIS);

    GetMessageResponse received = GetMessageResponse.parseFrom(sent.toByteArray());

    assertThat(received.getMessage()).isEqualTo(a);
    assertThat(received.getServedFrom()).isEqualTo(Tier.TIER_REDIS);
    assertThat(received.getUnknownFields().asMap()).isEmpty();
  }

  @Test
  void aPageKeepsTheStoredOrderAndItsToken() throws Exception {
    ListMessagesResponse sent = StoredMessages.listResponse(List.of(b.toByteArray(), a.toByteArray()),
        Tier.TIER_REDIS, "next");

    ListMessagesResponse received = ListMessagesResponse.parseFrom(sent.toByteArray());

    assertThat(received.getMessagesList()).containsExactly(b, a);
    assertThat(received.getNextPageToken()).isEqualTo("next");
    assertThat(received.getServedFrom()).isEqualTo(Tier.TIER_REDIS);
  }

  @Test
  void anEmptyPageHasNoMessages() throws Exception {
    ListMessagesResponse received = ListMessagesResponse.parseFrom(
        StoredMessages.listResponse(List.of(), Tier.TIER_REDIS, "").toByteArray());

    assertThat(received.getMessagesList()).isEmpty();
    assertThat(received.getNextPageToken()).isEmpty();
  }

  @Test
  void onlyBytesThatStartWithAMessageIdArePlausible() {
    assertThat(StoredMessages.plausible(a.toByteArray())).isTrue();
    assertThat(StoredMessages.plausible(null)).isFalse();
    assertThat(StoredMessages.plausible(new byte[0])).isFalse();
    assertThat(StoredMessages.plausible("garbage".getBytes())).isFalse();
  }
}
