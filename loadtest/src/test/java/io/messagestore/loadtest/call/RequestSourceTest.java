package io.messagestore.loadtest.call;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.messagestore.api.v1.ListMessagesRequest;
import io.messagestore.api.v1.Role;
import io.messagestore.api.v1.SendMessageRequest;
import io.messagestore.loadtest.LoadTestException;
import org.junit.jupiter.api.Test;

class RequestSourceTest {

    @Test
    void dataWithoutTemplatesIsSerializedOnceAndReused() throws Exception {
        RequestSource source = RequestSource.compile("{\"thread_id\":\"t1\",\"role\":\"ROLE_USER\",\"content\":\"hi\"}",
                SendMessageRequest.getDescriptor(), false);

        byte[] first = source.request(0, "w");
        assertThat(source.isConstant()).isTrue();
        assertThat(source.request(1, "w")).isSameAs(first);
        SendMessageRequest request = SendMessageRequest.parseFrom(first);
        assertThat(request.getThreadId()).isEqualTo("t1");
        assertThat(request.getRole()).isEqualTo(Role.ROLE_USER);
    }

    @Test
    void aJsonArrayIsSentRoundRobin() throws Exception {
        RequestSource source = RequestSource.compile("[{\"thread_id\":\"a\"}, {\"thread_id\":\"b\"}, {\"thread_id\":\"c\"}]",
                SendMessageRequest.getDescriptor(), false);

        assertThat(source.size()).isEqualTo(3);
        StringBuilder order = new StringBuilder();
        for (int n = 0; n < 7; n++) {
            order.append(SendMessageRequest.parseFrom(source.request(n, "w")).getThreadId());
        }
        assertThat(order.toString()).isEqualTo("abcabca");
    }

    @Test
    void templatesMayStandWhereJsonExpectsANumber() throws Exception {
        RequestSource source = RequestSource.compile(
                "[{\"thread_id\":\"t-{{.RequestNumber}}\",\"page_size\":{{randomInt 10 11}}}]",
                ListMessagesRequest.getDescriptor(), false);

        ListMessagesRequest request = ListMessagesRequest.parseFrom(source.request(5, "w"));
        assertThat(source.isConstant()).isFalse();
        assertThat(request.getThreadId()).isEqualTo("t-5");
        assertThat(request.getPageSize()).isEqualTo(10);
    }

    @Test
    void dataThatDoesNotFitTheRequestTypeFailsBeforeTheRun() {
        assertThatThrownBy(() -> RequestSource.compile("{\"no_such_field\":1}", SendMessageRequest.getDescriptor(), false))
                .isInstanceOf(LoadTestException.class)
                .hasMessageContaining("-d data does not fit messagestore.v1.SendMessageRequest");
        assertThatThrownBy(() -> RequestSource.compile("{\"page_size\":\"{{newUUID}}\"}",
                ListMessagesRequest.getDescriptor(), false))
                .isInstanceOf(LoadTestException.class)
                .hasMessageContaining("-d data does not fit messagestore.v1.ListMessagesRequest");
    }

    @Test
    void unknownFieldsCanBeIgnoredForACompareBaseline() {
        RequestSource source = RequestSource.compile("{\"thread_id\":\"x\"}",
                io.grpc.health.v1.HealthCheckRequest.getDescriptor(), true);

        assertThat(source.request(0, "w")).isEmpty();
    }
}
