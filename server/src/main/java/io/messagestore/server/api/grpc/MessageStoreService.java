package io.messagestore.server.api.grpc;

import io.grpc.stub.StreamObserver;
import io.messagestore.api.v1.DeleteThreadRequest;
import io.messagestore.api.v1.DeleteThreadResponse;
import io.messagestore.api.v1.GetMessageRequest;
import io.messagestore.api.v1.GetMessageResponse;
import io.messagestore.api.v1.GetRunStateRequest;
import io.messagestore.api.v1.GetRunStateResponse;
import io.messagestore.api.v1.GetThreadStatsRequest;
import io.messagestore.api.v1.GetThreadStatsResponse;
import io.messagestore.api.v1.ListMessagesRequest;
import io.messagestore.api.v1.ListMessagesResponse;
import io.messagestore.api.v1.ListThreadsRequest;
import io.messagestore.api.v1.ListThreadsResponse;
import io.messagestore.api.v1.MessageStoreGrpc;
import io.messagestore.api.v1.PutRunStateRequest;
import io.messagestore.api.v1.PutRunStateResponse;
import io.messagestore.api.v1.SendMessageBatchRequest;
import io.messagestore.api.v1.SendMessageBatchResponse;
import io.messagestore.api.v1.SendMessageRequest;
import io.messagestore.api.v1.SendMessageResponse;
import io.messagestore.api.v1.ThreadEvent;
import io.messagestore.api.v1.WatchThreadRequest;
import io.messagestore.server.auth.Caller;
import io.messagestore.server.read.ReadPath;
import io.messagestore.server.read.ThreadStatsRead;
import io.messagestore.server.runstate.RunStates;
import io.messagestore.server.watch.WatchStream;
import io.messagestore.server.watch.Watches;
import io.messagestore.server.write.ThreadDeletion;
import io.messagestore.server.write.WritePath;

/** The public API: translates RPCs to the write and read paths. */
public final class MessageStoreService extends MessageStoreGrpc.MessageStoreImplBase {
  private final WritePath writes;
  private final ReadPath reads;
  private final ThreadStatsRead stats;
  private final ThreadDeletion deletion;
  private final Watches watches;
  private final RunStates runStates;

  public MessageStoreService(WritePath writes, ReadPath reads, ThreadStatsRead stats, ThreadDeletion deletion,
      Watches watches, RunStates runStates) {
    this.writes = writes;
    this.reads = reads;
    this.stats = stats;
    this.deletion = deletion;
    this.watches = watches;
    this.runStates = runStates;
  }

  @Override
  public void sendMessage(SendMessageRequest request, StreamObserver<SendMessageResponse> observer) {
    Replies.reply(observer, () -> writes.send(Caller.current(), request, Replies.timeLeft()));
  }

  @Override
  public void sendMessageBatch(SendMessageBatchRequest request, StreamObserver<SendMessageBatchResponse> observer) {
    Replies.reply(observer, () -> writes.sendBatch(Caller.current(), request.getThreadId(), request.getMessagesList(),
            request.getDurability(), Replies.timeLeft())
        .thenApply(list -> SendMessageBatchResponse.newBuilder().addAllResults(list).build()));
  }

  @Override
  public void getMessage(GetMessageRequest request, StreamObserver<GetMessageResponse> observer) {
    Replies.reply(observer, () -> reads.get(Caller.current(), request.getThreadId(), request.getMessageId()));
  }

  @Override
  public void listMessages(ListMessagesRequest request, StreamObserver<ListMessagesResponse> observer) {
    Replies.reply(observer, () -> reads.list(Caller.current(), request));
  }

  @Override
  public void watchThread(WatchThreadRequest request, StreamObserver<ThreadEvent> observer) {
    WatchStream stream = Replies.watchStream(observer);
    try {
      watches.watch(Caller.current(), request, stream);
    } catch (RuntimeException e) {
      stream.fail(e);
    }
  }

  @Override
  public void listThreads(ListThreadsRequest request, StreamObserver<ListThreadsResponse> observer) {
    Replies.reply(observer, () -> reads.listThreads(Caller.current(), request));
  }

  @Override
  public void deleteThread(DeleteThreadRequest request, StreamObserver<DeleteThreadResponse> observer) {
    Replies.reply(observer, () -> deletion.delete(Caller.current(), request.getThreadId())
        .thenApply(n -> DeleteThreadResponse.newBuilder().setDeletedMessages(n).build()));
  }

  @Override
  public void putRunState(PutRunStateRequest request, StreamObserver<PutRunStateResponse> observer) {
    Replies.reply(observer, () -> runStates.put(Caller.current(), request));
  }

  @Override
  public void getRunState(GetRunStateRequest request, StreamObserver<GetRunStateResponse> observer) {
    Replies.reply(observer, () -> runStates.get(Caller.current(), request.getRunId(), request.getVersion()));
  }

  @Override
  public void getThreadStats(GetThreadStatsRequest request, StreamObserver<GetThreadStatsResponse> observer) {
    Replies.reply(observer, () -> stats.stats(Caller.current(), request.getThreadId()));
  }
}
