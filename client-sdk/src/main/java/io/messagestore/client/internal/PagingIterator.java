package io.messagestore.client.internal;

import io.grpc.Status;
import io.messagestore.client.MessageStoreException;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.function.Function;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * Walks a token-paged RPC one page at a time, fetching the next page only when the items of
 * the current one are used up. Not thread-safe.
 *
 * @param <T> the item type
 */
public final class PagingIterator<T> implements Iterator<T> {

  /** One page as the iterator needs it: its items and the token of the next page ("" at the end). */
  public record Page<T>(List<T> items, String nextPageToken) {
    public Page {
      Objects.requireNonNull(items, "items");
      Objects.requireNonNull(nextPageToken, "nextPageToken");
    }
  }

  private final String rpc;
  private final Function<String, Page<T>> fetchPage;
  private Iterator<T> current = Collections.emptyIterator();
  private String nextPageToken = "";
  private boolean lastPageFetched;

  /**
   * @param rpc the RPC name, for errors
   * @param fetchPage fetches the page for a token; the first page has the token ""
   */
  public PagingIterator(String rpc, Function<String, Page<T>> fetchPage) {
    this.rpc = Objects.requireNonNull(rpc, "rpc");
    this.fetchPage = Objects.requireNonNull(fetchPage, "fetchPage");
  }

  /** Returns a sequential, ordered, lazy stream over every item of every page. */
  public static <T> Stream<T> stream(String rpc, Function<String, Page<T>> fetchPage) {
    Iterator<T> iterator = new PagingIterator<>(rpc, fetchPage);
    return StreamSupport.stream(
        Spliterators.spliteratorUnknownSize(iterator, Spliterator.ORDERED | Spliterator.NONNULL),
        false);
  }

  @Override
  public boolean hasNext() {
    // A loop, not an if: a server may legitimately answer with an empty page that still has a
    // next token (e.g. a page that only covered deleted or filtered rows).
    while (!current.hasNext()) {
      if (lastPageFetched) {
        return false;
      }
      fetchNextPage();
    }
    return true;
  }

  @Override
  public T next() {
    if (!hasNext()) {
      throw new NoSuchElementException();
    }
    return current.next();
  }

  private void fetchNextPage() {
    String token = nextPageToken;
    Page<T> page = fetchPage.apply(token);
    if (!page.nextPageToken().isEmpty() && page.nextPageToken().equals(token)) {
      // Following the same token again would page forever without progress.
      throw new MessageStoreException(rpc, Status.INTERNAL.withDescription(
          "server returned page token '" + token + "' for the page it was requested with"), null);
    }
    current = page.items().iterator();
    nextPageToken = page.nextPageToken();
    lastPageFetched = nextPageToken.isEmpty();
  }
}
