package io.messagestore.loadtest.watch;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Timestamp;
import io.messagestore.api.v1.Message;
import io.messagestore.api.v1.ThreadEvent;
import java.io.ByteArrayInputStream;
import org.junit.jupiter.api.Test;

class EventDigestTest {

    private static EventDigest digest(ThreadEvent event) {
        return EventDigest.MARSHALLER.parse(new ByteArrayInputStream(event.toByteArray()));
    }

    @Test
    void aConfirmationGivesItsTypeAndTheMessagesCreationTimeInNanoseconds() {
        ThreadEvent event = ThreadEvent.newBuilder().setType(ThreadEvent.Type.MESSAGE_CONFIRMED).setThreadId("t")
                .setMessageId("m")
                .setMessage(Message.newBuilder().setMessageId("m").setThreadId("t").setContent("x".repeat(5000))
                        .putMetadata("k", "v").setCreatedAt(Timestamp.newBuilder().setSeconds(1_700_000_000L)
                                .setNanos(123_000_000)))
                .setOccurredAt(Timestamp.newBuilder().setSeconds(1).setNanos(2))
                .build();

        assertThat(digest(event)).isEqualTo(new EventDigest(ThreadEvent.Type.MESSAGE_CONFIRMED_VALUE,
                1_700_000_000_123_000_000L));
    }

    @Test
    void anEventWithoutAMessageHasNoCreationTime() {
        ThreadEvent persisted = ThreadEvent.newBuilder().setType(ThreadEvent.Type.MESSAGE_PERSISTED).setThreadId("t")
                .setMessageId("m").setOccurredAt(Timestamp.newBuilder().setSeconds(5)).build();

        assertThat(digest(persisted)).isEqualTo(new EventDigest(ThreadEvent.Type.MESSAGE_PERSISTED_VALUE, -1));
    }

    @Test
    void fieldsItDoesNotKnowAreSkipped() {
        byte[] known = ThreadEvent.newBuilder().setType(ThreadEvent.Type.THREAD_DELETED).build().toByteArray();
        // field 99, length-delimited, 3 bytes: a field a newer gateway might add
        byte[] unknown = {(byte) 0x9a, 0x06, 3, 'a', 'b', 'c'};
        byte[] both = new byte[unknown.length + known.length];
        System.arraycopy(unknown, 0, both, 0, unknown.length);
        System.arraycopy(known, 0, both, unknown.length, known.length);

        assertThat(EventDigest.MARSHALLER.parse(new ByteArrayInputStream(both)))
                .isEqualTo(new EventDigest(ThreadEvent.Type.THREAD_DELETED_VALUE, -1));
    }
}
