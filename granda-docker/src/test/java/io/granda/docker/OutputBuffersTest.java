package io.granda.docker;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a call keeps of its output: the head of stdout and the tail of stderr, whatever the write sizes. */
class OutputBuffersTest {

    @Test
    void headKeepsTheFirstBytesAndFlagsTheRest() {
        Random random = new Random(42);
        for (int round = 0; round < 200; round++) {
            int limit = 1 + random.nextInt(300);
            HeadBuffer head = new HeadBuffer(limit);
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            writeRandomChunks(random, head, all);

            byte[] everything = all.toByteArray();
            assertArrayEquals(Arrays.copyOf(everything, Math.min(limit, everything.length)), head.toByteArray());
            assertEquals(everything.length > limit, head.truncated());
        }
    }

    @Test
    void tailKeepsTheLastBytesWhateverTheChunkSizes() {
        Random random = new Random(7);
        for (int round = 0; round < 200; round++) {
            int capacity = 1 + random.nextInt(300);
            TailBuffer tail = new TailBuffer(capacity);
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            writeRandomChunks(random, tail, all);

            byte[] everything = all.toByteArray();
            byte[] expected = Arrays.copyOfRange(everything, Math.max(0, everything.length - capacity),
                    everything.length);
            assertArrayEquals(expected, tail.toByteArray(), "capacity " + capacity);
        }
    }

    @Test
    void emptyBuffersAreEmpty() {
        assertEquals(0, new HeadBuffer(10).toByteArray().length);
        assertFalse(new HeadBuffer(10).truncated());
        assertEquals("", new TailBuffer(10).asString());
    }

    @Test
    void tailTextDoesNotStartWithHalfACharacter() {
        TailBuffer tail = new TailBuffer(5);
        // "é" is two bytes; keeping 5 of "aé€!" (1 + 2 + 3 + 1 bytes) would start inside "é".
        byte[] text = "aé€!".getBytes(StandardCharsets.UTF_8);
        tail.write(text, 0, text.length);

        assertEquals("€!", tail.asString());
    }

    @Test
    void tailTextThatWasNotCutIsWhole() {
        TailBuffer tail = new TailBuffer(100);
        byte[] text = "déjà vu".getBytes(StandardCharsets.UTF_8);
        tail.write(text, 0, text.length);

        assertEquals("déjà vu", tail.asString());
        assertTrue(tail.toByteArray().length < 100);
    }

    private static void writeRandomChunks(Random random, java.io.OutputStream sink, ByteArrayOutputStream copy) {
        int chunks = random.nextInt(20);
        for (int i = 0; i < chunks; i++) {
            byte[] chunk = new byte[random.nextInt(700)];
            random.nextBytes(chunk);
            int off = chunk.length == 0 ? 0 : random.nextInt(chunk.length);
            int len = chunk.length - off;
            try {
                sink.write(chunk, off, len);
            } catch (java.io.IOException e) {
                throw new AssertionError(e);
            }
            copy.write(chunk, off, len);
        }
    }
}
