package io.messagestore.server.redis;

import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.codec.ToByteBufEncoder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import java.nio.ByteBuffer;

/**
 * String keys (UTF-8) and byte-array values, written straight into the command's buffer.
 *
 * <p>{@code RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE)} does the same job, but its
 * composed codec has no {@link ToByteBufEncoder}, so lettuce encodes every key and value into a
 * {@link ByteBuffer} of its own first and then copies it: about 4 % of the gateway's CPU on a
 * cache send, where every call carries a dozen keys and arguments. The sizes given here are
 * exact, so lettuce writes the length header and then the bytes, with no scratch buffer.
 */
public final class Utf8KeysBinaryValuesCodec implements RedisCodec<String, byte[]>, ToByteBufEncoder<String, byte[]> {

  public static final Utf8KeysBinaryValuesCodec INSTANCE = new Utf8KeysBinaryValuesCodec();

  private Utf8KeysBinaryValuesCodec() {
  }

  @Override
  public String decodeKey(ByteBuffer bytes) {
    return StringCodec.UTF8.decodeKey(bytes);
  }

  @Override
  public byte[] decodeValue(ByteBuffer bytes) {
    return ByteArrayCodec.INSTANCE.decodeValue(bytes);
  }

  @Override
  public ByteBuffer encodeKey(String key) {
    return StringCodec.UTF8.encodeKey(key);
  }

  @Override
  public ByteBuffer encodeValue(byte[] value) {
    return ByteArrayCodec.INSTANCE.encodeValue(value);
  }

  @Override
  public void encodeKey(String key, ByteBuf target) {
    if (key != null) {
      ByteBufUtil.writeUtf8(target, key);
    }
  }

  @Override
  public void encodeValue(byte[] value, ByteBuf target) {
    if (value != null) {
      target.writeBytes(value);
    }
  }

  @Override
  public int estimateSize(Object keyOrValue) {
    if (keyOrValue == null) {
      return 0;
    }
    if (keyOrValue instanceof byte[] bytes) {
      return bytes.length;
    }
    return ByteBufUtil.utf8Bytes((CharSequence) keyOrValue);
  }

  @Override
  public boolean isEstimateExact() {
    return true;
  }
}
