package io.messagestore.server.read;

import com.google.protobuf.UnknownFieldSet;
import com.google.protobuf.UnsafeByteOperations;
import io.messagestore.api.v1.GetMessageResponse;
import io.messagestore.api.v1.ListMessagesResponse;
import io.messagestore.api.v1.Message;
import io.messagestore.api.v1.Tier;
import java.util.List;

/**
 * Responses that carry messages exactly as Redis stores them (serialized {@link Message}s),
 * without parsing and serializing them again.
 *
 * <p>A stored message goes into the response as an unknown field with the number of the
 * message field: on the wire, a length-delimited unknown field and a message field with the
 * same number are the same bytes, so every client reads them as messages. Only code in this
 * process reading the response object would not see them, and none does: the response is
 * serialized as soon as it is complete. For a page of fifty 512-byte messages this saves fifty
 * parses and fifty serializations per call.
 */
final class StoredMessages {
  /** The first byte of every serialized Message: field 1 (message_id), length-delimited. */
  private static final byte MESSAGE_ID_TAG = (byte) ((Message.MESSAGE_ID_FIELD_NUMBER << 3) | 2);

  private StoredMessages() {}

  /**
   * Whether the bytes can be a message this gateway stored (it always sets message_id, the
   * first field written). A cheap check that keeps a foreign or damaged value out of answers.
   */
  static boolean plausible(byte[] stored) {
    return stored != null && stored.length > 2 && stored[0] == MESSAGE_ID_TAG;
  }

  static GetMessageResponse getResponse(byte[] stored, Tier servedFrom) {
    return GetMessageResponse.newBuilder()
        .setServedFrom(servedFrom)
        .setUnknownFields(UnknownFieldSet.newBuilder()
            .addField(GetMessageResponse.MESSAGE_FIELD_NUMBER, lengthDelimited(List.of(stored)))
            .build())
        .build();
  }

  /** @param nextPageToken empty on the last page */
  static ListMessagesResponse listResponse(List<byte[]> stored, Tier servedFrom, String nextPageToken) {
    ListMessagesResponse.Builder b = ListMessagesResponse.newBuilder().setServedFrom(servedFrom)
        .setNextPageToken(nextPageToken);
    if (!stored.isEmpty()) {
      b.setUnknownFields(UnknownFieldSet.newBuilder()
          .addField(ListMessagesResponse.MESSAGES_FIELD_NUMBER, lengthDelimited(stored))
          .build());
    }
    return b.build();
  }

  /** The messages of a page, wherever the response holds them (parsed, or as stored bytes). */
  static List<Message> messagesOf(ListMessagesResponse page) {
    UnknownFieldSet.Field stored = page.getUnknownFields().getField(ListMessagesResponse.MESSAGES_FIELD_NUMBER);
    if (stored == null || stored.getLengthDelimitedList().isEmpty()) {
      return page.getMessagesList();
    }
    List<Message> out = new java.util.ArrayList<>(page.getMessagesList());
    for (com.google.protobuf.ByteString b : stored.getLengthDelimitedList()) {
      try {
        out.add(Message.parseFrom(b));
      } catch (com.google.protobuf.InvalidProtocolBufferException e) {
        // plausible() let it in; unreadable now means damaged in a way no reader can use.
        throw new IllegalStateException("a stored message in the page cannot be parsed", e);
      }
    }
    return out;
  }

  private static UnknownFieldSet.Field lengthDelimited(List<byte[]> values) {
    UnknownFieldSet.Field.Builder f = UnknownFieldSet.Field.newBuilder();
    // The arrays come from Redis replies and are never modified: no copy needed.
    values.forEach(v -> f.addLengthDelimited(UnsafeByteOperations.unsafeWrap(v)));
    return f.build();
  }
}
