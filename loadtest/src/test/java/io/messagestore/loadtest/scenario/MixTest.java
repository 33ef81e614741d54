package io.messagestore.loadtest.scenario;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.messagestore.loadtest.LoadTestException;
import java.util.EnumMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MixTest {

    @Test
    void everyHundredCallsFollowTheProportionsExactly() {
        Mix mix = Mix.parse("send=60,get=25,list=10,watch=5");
        Map<Mix.Operation, Integer> counts = new EnumMap<>(Mix.Operation.class);
        for (long n = 0; n < 100; n++) {
            counts.merge(mix.operationOf(n), 1, Integer::sum);
        }

        assertThat(counts).containsEntry(Mix.Operation.SEND, 60).containsEntry(Mix.Operation.GET, 25)
                .containsEntry(Mix.Operation.LIST, 10).containsEntry(Mix.Operation.WATCH, 5);
    }

    @Test
    void operationsInterleaveInsteadOfComingInBlocks() {
        Mix mix = Mix.parse("send=1,get=1");

        assertThat(mix.operationOf(0)).isNotEqualTo(mix.operationOf(1));
        assertThat(mix.operationOf(2)).isEqualTo(mix.operationOf(0));
    }

    @Test
    void unknownOperationsAndBadWeightsAreRejectedWithTheirName() {
        assertThatThrownBy(() -> Mix.parse("send=1,delete=2")).isInstanceOf(LoadTestException.class)
                .hasMessageContaining("unknown operation 'delete'");
        assertThatThrownBy(() -> Mix.parse("send=x")).hasMessageContaining("weight of send is not an integer");
        assertThatThrownBy(() -> Mix.parse("send=0")).hasMessageContaining("at least one operation");
    }
}
