/**
 * The MessageStore JVM client: {@link io.messagestore.client.MessageStoreClient}, its
 * operator view {@link io.messagestore.client.MessageStoreAdminClient}, thread watches
 * ({@link io.messagestore.client.ThreadWatch}), the
 * {@link io.messagestore.client.MessageStoreClientOptions} and
 * {@link io.messagestore.client.MessageStoreException}. Requests and results are the generated
 * protobuf types of {@code io.messagestore.api.v1}.
 */
package io.messagestore.client;
