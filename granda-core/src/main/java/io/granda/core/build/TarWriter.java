package io.granda.core.build;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Objects;

/**
 * Writes a tar archive in the POSIX format: ustar headers, plus a PAX extended header for a path that ustar cannot
 * hold (longer than its name and prefix fields, or not ASCII). Docker's build API and every tar reader accept it.
 * Through the public methods it writes regular files only; directories are implied by the paths, as Docker's build
 * context allows. Every entry belongs to uid and gid 0 and carries the time {@link #MODIFIED}, so the same files
 * always make the same bytes.
 *
 * <p>Not thread-safe: one writer per archive, used by one thread.
 */
public final class TarWriter {

    /** The mode of an ordinary file: {@code rw-r--r--}. */
    public static final int MODE_FILE = 0644;
    /** The mode of an executable file: {@code rwxr-xr-x}. */
    public static final int MODE_EXECUTABLE = 0755;
    /**
     * The modification time of every entry: fixed so that archives are reproducible, and not the epoch, because some
     * tools refuse times before 1980 (zip, and so Python's wheel builds of copied sources).
     */
    public static final Instant MODIFIED = Instant.parse("2000-01-01T00:00:00Z");

    static final int BLOCK = 512;
    static final byte TYPE_FILE = '0';
    static final byte TYPE_PAX = 'x';
    private static final int NAME_BYTES = 100;
    private static final int PREFIX_BYTES = 155;
    /** ustar's size field: 11 octal digits. */
    private static final long MAX_SIZE = 077777777777L;
    /** POSIX ustar: "ustar", NUL, version "00". */
    private static final byte[] MAGIC = {'u', 's', 't', 'a', 'r', 0, '0', '0'};

    private final OutputStream out;
    private boolean finished;

    /** @param out receives the archive; not closed by this writer */
    public TarWriter(OutputStream out) {
        this.out = Objects.requireNonNull(out, "out");
    }

    /**
     * Adds a regular file.
     *
     * @param path    a relative path with '/' separators, without empty, {@code .} or {@code ..} parts
     * @param content the file's bytes
     * @param mode    permission bits, e.g. {@link #MODE_FILE} or {@link #MODE_EXECUTABLE}
     * @throws IllegalArgumentException when the path is not relative and plain, or the mode not permission bits
     * @throws IOException              when the output fails
     * @throws IllegalStateException    after {@link #finish()}
     */
    public void file(String path, byte[] content, int mode) throws IOException {
        checkPlainPath(path);
        if (mode < 0 || mode > 07777) {
            throw new IllegalArgumentException("mode " + Integer.toOctalString(mode) + " is not permission bits");
        }
        entry(path, TYPE_FILE, mode, content, "");
    }

    /**
     * Ends the archive with its two zero blocks. The output stays open.
     *
     * @throws IOException when the output fails
     */
    public void finish() throws IOException {
        if (!finished) {
            finished = true;
            out.write(new byte[2 * BLOCK]);
        }
    }

    /**
     * Writes any entry, with no check of its name: for tests that need what a careless or hostile archiver makes
     * (absolute names, {@code ..}, links, devices).
     */
    void entry(String name, byte type, int mode, byte[] content, String linkName) throws IOException {
        if (finished) {
            throw new IllegalStateException("the archive is finished");
        }
        if (content.length > MAX_SIZE) {
            throw new IllegalArgumentException("'" + name + "' is too large for a tar entry");
        }
        byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
        byte[] header = new byte[BLOCK];
        int split = ascii(name) ? ustarSplit(nameBytes) : -2;
        if (split == -2) {
            // PAX: the real path in an extended header; the ustar name is only what old readers show.
            paxPath(name);
            byte[] shortName = ("granda-long-name-" + Integer.toHexString(name.hashCode()))
                    .getBytes(StandardCharsets.US_ASCII);
            System.arraycopy(shortName, 0, header, 0, shortName.length);
        } else if (split == -1) {
            System.arraycopy(nameBytes, 0, header, 0, nameBytes.length);
        } else {
            System.arraycopy(nameBytes, split + 1, header, 0, nameBytes.length - split - 1);
            System.arraycopy(nameBytes, 0, header, 345, split);
        }
        octal(header, 100, 8, mode);
        octal(header, 108, 8, 0);
        octal(header, 116, 8, 0);
        octal(header, 124, 12, content.length);
        octal(header, 136, 12, MODIFIED.getEpochSecond());
        header[156] = type;
        byte[] link = linkName.getBytes(StandardCharsets.UTF_8);
        if (link.length > NAME_BYTES) {
            throw new IllegalArgumentException("link name of '" + name + "' is longer than " + NAME_BYTES + " bytes");
        }
        System.arraycopy(link, 0, header, 157, link.length);
        System.arraycopy(MAGIC, 0, header, 257, MAGIC.length);
        checksum(header);
        out.write(header);
        out.write(content);
        pad(content.length);
    }

    private void paxPath(String path) throws IOException {
        byte[] record = paxRecord("path", path);
        byte[] header = new byte[BLOCK];
        byte[] name = "granda-pax-header".getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(name, 0, header, 0, name.length);
        octal(header, 100, 8, 0644);
        octal(header, 108, 8, 0);
        octal(header, 116, 8, 0);
        octal(header, 124, 12, record.length);
        octal(header, 136, 12, MODIFIED.getEpochSecond());
        header[156] = TYPE_PAX;
        System.arraycopy(MAGIC, 0, header, 257, MAGIC.length);
        checksum(header);
        out.write(header);
        out.write(record);
        pad(record.length);
    }

    /** @return {@code "<length> key=value\n"}, where the length counts the whole record, its own digits included */
    static byte[] paxRecord(String key, String value) {
        int body = 1 + key.getBytes(StandardCharsets.UTF_8).length + 1
                + value.getBytes(StandardCharsets.UTF_8).length + 1;
        int length = body + Integer.toString(body).length();
        if (Integer.toString(length).length() != Integer.toString(body).length()) {
            length = body + Integer.toString(length).length();
        }
        return (length + " " + key + "=" + value + "\n").getBytes(StandardCharsets.UTF_8);
    }

    private void pad(long length) throws IOException {
        int rest = (int) (length % BLOCK);
        if (rest != 0) {
            out.write(new byte[BLOCK - rest]);
        }
    }

    /**
     * @return -1 when the name fits the name field alone; the index of the '/' that splits it into prefix and name;
     *         -2 when ustar cannot hold it
     */
    private static int ustarSplit(byte[] name) {
        if (name.length <= NAME_BYTES) {
            return -1;
        }
        for (int i = Math.min(name.length - 2, PREFIX_BYTES); i > 0; i--) {
            if (name[i] == '/' && name.length - i - 1 <= NAME_BYTES) {
                return i;
            }
        }
        return -2;
    }

    private static boolean ascii(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) >= 0x80 || s.charAt(i) == 0) {
                return false;
            }
        }
        return true;
    }

    private static void checkPlainPath(String path) {
        if (path == null || path.isEmpty() || path.startsWith("/")) {
            throw new IllegalArgumentException("tar entry path '" + path + "' must be relative and not empty");
        }
        for (String segment : path.split("/", -1)) {
            if (segment.isEmpty() || segment.equals(".") || segment.equals("..") || segment.indexOf('\0') >= 0) {
                throw new IllegalArgumentException("tar entry path '" + path + "' must not have empty, '.' or '..'"
                        + " parts");
            }
        }
    }

    /** Writes {@code value} as zero-padded octal digits filling the field but its last byte, which stays NUL. */
    private static void octal(byte[] header, int offset, int length, long value) {
        String digits = Long.toOctalString(value);
        int width = length - 1;
        if (digits.length() > width) {
            throw new IllegalArgumentException(value + " does not fit a tar header field of " + length + " bytes");
        }
        for (int i = 0; i < width; i++) {
            int d = i - (width - digits.length());
            header[offset + i] = d < 0 ? (byte) '0' : (byte) digits.charAt(d);
        }
        header[offset + width] = 0;
    }

    /** The checksum: the header's unsigned byte sum, counting its own field as spaces; six digits, NUL, space. */
    private static void checksum(byte[] header) {
        for (int i = 148; i < 156; i++) {
            header[i] = ' ';
        }
        long sum = 0;
        for (byte b : header) {
            sum += b & 0xff;
        }
        String digits = String.format("%06o", sum);
        for (int i = 0; i < 6; i++) {
            header[148 + i] = (byte) digits.charAt(i);
        }
        header[154] = 0;
        header[155] = ' ';
    }
}
