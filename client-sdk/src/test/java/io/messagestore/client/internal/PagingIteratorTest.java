package io.messagestore.client.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.messagestore.client.MessageStoreException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PagingIteratorTest {

  @Test
  void emptyPagesThatStillHaveATokenAreSkippedNotTakenAsTheEnd() {
    Map<String, PagingIterator.Page<String>> pages = Map.of(
        "", new PagingIterator.Page<>(List.of("a"), "1"),
        "1", new PagingIterator.Page<>(List.of(), "2"),
        "2", new PagingIterator.Page<>(List.of("b"), ""));

    assertThat(PagingIterator.stream("List", pages::get).toList()).containsExactly("a", "b");
  }

  @Test
  void emptyFirstPageIsAnEmptyStream() {
    assertThat(PagingIterator.stream("List", t -> new PagingIterator.Page<String>(List.of(), ""))).isEmpty();
  }

  @Test
  void aTokenThatDoesNotAdvanceFailsInsteadOfPagingForever() {
    List<String> tokens = new ArrayList<>();
    PagingIterator<String> stuck = new PagingIterator<>("ListMessages", token -> {
      tokens.add(token);
      return new PagingIterator.Page<>(List.of(), "same");
    });

    assertThatThrownBy(stuck::hasNext)
        .isInstanceOfSatisfying(MessageStoreException.class,
            e -> assertThat(e.getCode()).isEqualTo(Status.Code.INTERNAL))
        .hasMessageStartingWith("ListMessages failed: INTERNAL: server returned page token 'same'");
    assertThat(tokens).containsExactly("", "same");
  }
}
