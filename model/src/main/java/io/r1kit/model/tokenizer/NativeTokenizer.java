package io.r1kit.model.tokenizer;

import ai.djl.huggingface.tokenizers.jni.LibUtils;
import ai.djl.huggingface.tokenizers.jni.TokenizersLibrary;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The Rust Hugging Face tokenizers library through DJL's JNI binding, used directly: one native
 * tokenizer built from tokenizer.json text, with truncation and padding switched off, and encode /
 * decode that free their native encodings. (DJL's {@code HuggingFaceTokenizer} wrapper adds
 * defaults we would only switch off again, and needs DJL's api jar at compile time.)
 *
 * <p>Encode/decode run concurrently (the Rust tokenizer is immutable while encoding); a
 * read-write lock keeps {@link #close} from freeing the native object under a running call.
 */
final class NativeTokenizer implements AutoCloseable {

    private static final TokenizersLibrary LIB = TokenizersLibrary.LIB;

    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private long handle;

    private NativeTokenizer(long handle) {
        this.handle = handle;
    }

    /** Builds a tokenizer from the JSON text of a tokenizer.json (offline: loads the bundled native library). */
    static NativeTokenizer fromJson(String json) {
        LibUtils.checkStatus();
        long h = LIB.createTokenizerFromString(json);
        LIB.disableTruncation(h);
        LIB.disablePadding(h);
        return new NativeTokenizer(h);
    }

    long[] encode(String text, boolean addSpecialTokens) {
        lock.readLock().lock();
        try {
            long enc = LIB.encode(live(), text, addSpecialTokens);
            try {
                return LIB.getTokenIds(enc);
            } finally {
                LIB.deleteEncoding(enc);
            }
        } finally {
            lock.readLock().unlock();
        }
    }

    String decode(long[] ids, boolean skipSpecialTokens) {
        lock.readLock().lock();
        try {
            return LIB.decode(live(), ids, skipSpecialTokens);
        } finally {
            lock.readLock().unlock();
        }
    }

    private long live() {
        if (handle == 0) throw new IllegalStateException("tokenizer is closed");
        return handle;
    }

    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            if (handle != 0) {
                LIB.deleteTokenizer(handle);
                handle = 0;
            }
        } finally {
            lock.writeLock().unlock();
        }
    }
}
