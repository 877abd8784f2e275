package io.granda.core.build;

import io.granda.core.InvalidFunctionSpecException;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * Reads the entries of a tar archive one after the other: POSIX ustar and pax (extended {@code path},
 * {@code linkpath} and {@code size}), GNU (long names and link names) and old v7 headers. It only parses: what to do
 * with each type of entry is the caller's choice. Sizes come from headers and are never used to allocate; an entry's
 * content is read through {@link #content()}, which ends where the header says.
 *
 * <p>Not thread-safe.
 */
final class TarReader {

    /** The largest pax or GNU long-name header accepted: far more than any path needs. */
    static final int MAX_META_BYTES = 64 * 1024;

    private static final int BLOCK = TarWriter.BLOCK;

    /**
     * One entry's header.
     *
     * @param name     its path as stored, after any pax or GNU long name
     * @param type     the type flag: {@code '0'} for a regular file (also for {@code '\0'} and {@code '7'}),
     *                 {@code '5'} a directory, {@code '1'} a hard link, {@code '2'} a symbolic link, ...
     * @param size     the content's size as declared
     * @param linkName the target of a link, else empty
     */
    record Entry(String name, char type, long size, String linkName) {
    }

    private final InputStream in;
    private long remaining;
    private long padding;
    private boolean ended;

    /** @param in the archive, uncompressed */
    TarReader(InputStream in) {
        this.in = in;
    }

    /**
     * Skips what is left of the current entry and reads the next header.
     *
     * @return the next entry, or null at the end of the archive
     * @throws InvalidFunctionSpecException naming field {@code archive} when a header is corrupt or the archive ends
     *                                      inside an entry
     * @throws IOException                  when the input fails
     */
    Entry next() throws IOException {
        if (ended) {
            return null;
        }
        skip(remaining + padding);
        remaining = 0;
        padding = 0;
        String longName = null;
        String longLink = null;
        Long paxSize = null;
        while (true) {
            byte[] header = new byte[BLOCK];
            int read = in.readNBytes(header, 0, BLOCK);
            if (read == 0 || read == BLOCK && allZero(header)) {
                // One zero block ends it; the second and any record padding are not needed (nor read).
                ended = true;
                return null;
            }
            if (read < BLOCK) {
                throw corrupt("the archive ends inside a header");
            }
            checkChecksum(header);
            char type = (char) (header[156] == 0 ? '0' : header[156] & 0xff);
            long size = number(header, 124, 12);
            boolean posix = matches(header, 257, "ustar\0");
            switch (type) {
                case 'x', 'g' -> {
                    String records = meta(size, type == 'x' ? "pax header" : "pax global header");
                    if (type == 'x') {
                        PaxHeader pax = parsePax(records);
                        longName = pax.path != null ? pax.path : longName;
                        longLink = pax.linkPath != null ? pax.linkPath : longLink;
                        paxSize = pax.size != null ? pax.size : paxSize;
                    }
                    continue;
                }
                case 'L' -> {
                    longName = stripNuls(meta(size, "GNU long name"));
                    continue;
                }
                case 'K' -> {
                    longLink = stripNuls(meta(size, "GNU long link name"));
                    continue;
                }
                default -> {
                    // The entry itself.
                }
            }
            if (paxSize != null) {
                size = paxSize;
            }
            String name = longName;
            if (name == null) {
                name = string(header, 0, 100);
                String prefix = posix ? string(header, 345, 155) : "";
                if (!prefix.isEmpty()) {
                    name = prefix + "/" + name;
                }
            }
            String link = longLink != null ? longLink : string(header, 157, 100);
            if (type == '7' || type == '\0') {
                type = '0';
            }
            // Links, directories and devices have no content whatever their size field says (GNU and POSIX agree).
            boolean hasContent = type != '1' && type != '2' && type != '3' && type != '4' && type != '5'
                    && type != '6';
            remaining = hasContent ? size : 0;
            padding = hasContent ? (BLOCK - size % BLOCK) % BLOCK : 0;
            return new Entry(name, type, size, link);
        }
    }

    /**
     * @return the current entry's content, ending where its header says; reading it is optional ({@link #next()}
     *         skips what is left). Ends with an {@link EOFException} when the archive is cut short inside it.
     */
    InputStream content() {
        return new InputStream() {
            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (remaining == 0) {
                    return -1;
                }
                int n = in.read(b, off, (int) Math.min(len, remaining));
                if (n < 0) {
                    throw new EOFException("the archive ends inside an entry");
                }
                remaining -= n;
                return n;
            }
        };
    }

    private String meta(long size, String what) throws IOException {
        if (size > MAX_META_BYTES) {
            throw corrupt("a " + what + " of " + size + " bytes is larger than the " + MAX_META_BYTES + " accepted");
        }
        byte[] bytes = in.readNBytes((int) size);
        if (bytes.length < size) {
            throw corrupt("the archive ends inside a " + what);
        }
        skip((BLOCK - size % BLOCK) % BLOCK);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private record PaxHeader(String path, String linkPath, Long size) {
    }

    /** Parses {@code "<length> key=value\n"} records; unknown keys are ignored. */
    private static PaxHeader parsePax(String records) {
        byte[] bytes = records.getBytes(StandardCharsets.UTF_8);
        String path = null;
        String linkPath = null;
        Long size = null;
        int at = 0;
        while (at < bytes.length) {
            int space = at;
            while (space < bytes.length && bytes[space] != ' ') {
                space++;
            }
            int length;
            try {
                length = Integer.parseInt(new String(bytes, at, space - at, StandardCharsets.US_ASCII));
            } catch (NumberFormatException e) {
                throw corrupt("a pax header record has no valid length");
            }
            if (length <= space - at + 1 || at + length > bytes.length || bytes[at + length - 1] != '\n') {
                throw corrupt("a pax header record has a wrong length");
            }
            String record = new String(bytes, space + 1, at + length - space - 2, StandardCharsets.UTF_8);
            int eq = record.indexOf('=');
            if (eq < 0) {
                throw corrupt("a pax header record has no '='");
            }
            String key = record.substring(0, eq);
            String value = record.substring(eq + 1);
            switch (key) {
                case "path" -> path = value;
                case "linkpath" -> linkPath = value;
                case "size" -> {
                    try {
                        size = Long.parseLong(value);
                    } catch (NumberFormatException e) {
                        throw corrupt("a pax header has an invalid size '" + value + "'");
                    }
                    if (size < 0) {
                        throw corrupt("a pax header has a negative size");
                    }
                }
                default -> {
                    // Times, owners, charset, comments: nothing a function's source needs.
                }
            }
            at += length;
        }
        return new PaxHeader(path, linkPath, size);
    }

    private void skip(long n) throws IOException {
        long left = n;
        while (left > 0) {
            long skipped = in.skip(left);
            if (skipped <= 0) {
                if (in.read() < 0) {
                    throw corrupt("the archive ends inside an entry");
                }
                skipped = 1;
            }
            left -= skipped;
        }
    }

    private static void checkChecksum(byte[] header) {
        long stored = number(header, 148, 8);
        long unsigned = 0;
        long signed = 0;
        for (int i = 0; i < BLOCK; i++) {
            int b = i >= 148 && i < 156 ? ' ' : header[i];
            unsigned += b & 0xff;
            signed += (byte) b;
        }
        // Some old archivers summed signed bytes; both are accepted, as GNU tar does.
        if (stored != unsigned && stored != signed) {
            throw corrupt("a header's checksum is wrong (not a tar archive, or a damaged one)");
        }
    }

    /** Octal digits (padded with spaces or NULs), or GNU's base-256 for values octal cannot hold. */
    private static long number(byte[] header, int offset, int length) {
        if ((header[offset] & 0x80) != 0) {
            if ((header[offset] & 0x40) != 0) {
                throw corrupt("a header holds a negative number");
            }
            long value = header[offset] & 0x3f;
            for (int i = 1; i < length; i++) {
                if (value > (Long.MAX_VALUE >> 8)) {
                    throw corrupt("a header holds a number too large");
                }
                value = value << 8 | header[offset + i] & 0xff;
            }
            return value;
        }
        long value = 0;
        int i = offset;
        int end = offset + length;
        while (i < end && (header[i] == ' ' || header[i] == 0)) {
            i++;
        }
        while (i < end && header[i] >= '0' && header[i] <= '7') {
            if (value > (Long.MAX_VALUE >> 3)) {
                throw corrupt("a header holds a number too large");
            }
            value = value << 3 | header[i] - '0';
            i++;
        }
        while (i < end) {
            if (header[i] != ' ' && header[i] != 0) {
                throw corrupt("a header holds an invalid number");
            }
            i++;
        }
        return value;
    }

    private static String string(byte[] header, int offset, int length) {
        int end = offset;
        while (end < offset + length && header[end] != 0) {
            end++;
        }
        return new String(header, offset, end - offset, StandardCharsets.UTF_8);
    }

    private static String stripNuls(String s) {
        int end = s.length();
        while (end > 0 && s.charAt(end - 1) == '\0') {
            end--;
        }
        return s.substring(0, end);
    }

    private static boolean matches(byte[] header, int offset, String ascii) {
        for (int i = 0; i < ascii.length(); i++) {
            if (header[offset + i] != ascii.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private static boolean allZero(byte[] block) {
        for (byte b : block) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }

    private static InvalidFunctionSpecException corrupt(String what) {
        return new InvalidFunctionSpecException("archive", "the tar archive is damaged: " + what);
    }
}
