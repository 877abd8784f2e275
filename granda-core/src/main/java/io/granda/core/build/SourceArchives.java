package io.granda.core.build;

import io.granda.core.InvalidFunctionSpecException;

import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipInputStream;

/**
 * Reads an uploaded archive of a function's source into its files: a zip, a tar, or a gzip-compressed tar
 * ({@code .tar.gz}, {@code .tgz}), told apart by their first bytes, never by a name.
 *
 * <p>What it accepts: regular files, whose paths pass {@link FunctionSource#checkPath(String)} after a leading
 * {@code ./} is dropped; directories are skipped (paths imply them). A single top-level directory holding every
 * file, as GitHub's archives and {@code zip -r fn.zip fn/} make, is stripped, so {@code fn/handler.py} becomes
 * {@code handler.py}. Entries under {@code __MACOSX/} (resource forks that macOS's Finder adds to zips) are
 * skipped. What it refuses, with {@link InvalidFunctionSpecException} naming field {@code archive}: anything else than
 * these three formats, a damaged archive, absolute paths, {@code ..}, backslashes, symbolic and hard links (never
 * followed), devices and FIFOs, two paths that differ only in case, a file that is also a directory of another
 * file's path, and an archive without files. Zip entries are known to be links or devices from the Unix mode in
 * their central directory attributes; a zip made without Unix modes cannot say, and its links arrive as small files
 * holding the target's path (harmless: nothing here touches a file system).
 *
 * <p>Limits ({@link SourceLimits}), each a {@link SourceTooLargeException}: the archive's own size
 * ({@code maxUploadBytes}), the number of files ({@code maxFiles}), and the sum of the files' sizes
 * ({@code maxTotalBytes}), counted as the bytes come out of the decompressor: a zip bomb stops as soon as it passes
 * the limit, whatever its headers declare, having allocated little more than the limit. A compressed tar is also
 * stopped when its decompressed stream (headers included) passes the limit plus 4 KiB of headers per file allowed.
 *
 * <p>Thread-safe: stateless.
 */
public final class SourceArchives {

    /** The directory macOS's Finder adds to zips for resource forks and metadata, never part of a source. */
    static final String MAC_METADATA = "__MACOSX/";
    /** Header bytes a compressed tar may hold per file allowed, beyond the files' contents. */
    static final int TAR_OVERHEAD_PER_FILE = 4096;

    private static final int CHUNK = 64 * 1024;

    private SourceArchives() {
    }

    /** An archive format, as recognised by its first bytes. */
    enum Format {
        ZIP, TAR, TAR_GZIP
    }

    /**
     * Reads an archive from a stream, at most {@code maxUploadBytes} of it.
     *
     * @param in     the archive; read to its end (or one byte past the limit), not closed
     * @param limits the bounds on the archive and its files
     * @return the files, in the archive's order
     * @throws SourceTooLargeException      when a limit is passed
     * @throws InvalidFunctionSpecException naming field {@code archive} when the archive is not one, is damaged, or
     *                                      holds an entry that is refused (see the class comment)
     * @throws IOException                  when reading {@code in} fails
     */
    public static List<SourceFile> read(InputStream in, SourceLimits limits) throws IOException {
        // One byte past the limit proves it passed; an array cannot be quite Integer.MAX_VALUE long.
        byte[] archive = in.readNBytes((int) Math.min(limits.maxUploadBytes() + 1L, Integer.MAX_VALUE - 8));
        if (archive.length > limits.maxUploadBytes()) {
            throw new SourceTooLargeException("the archive is larger than " + limits.maxUploadBytes()
                    + " bytes, the most allowed");
        }
        return read(archive, limits);
    }

    /**
     * Reads an archive held in memory.
     *
     * @param archive the archive's bytes
     * @param limits  the bounds on the archive and its files
     * @return the files, in the archive's order
     * @throws SourceTooLargeException      when a limit is passed
     * @throws InvalidFunctionSpecException naming field {@code archive} when the archive is not one, is damaged, or
     *                                      holds an entry that is refused (see the class comment)
     */
    public static List<SourceFile> read(byte[] archive, SourceLimits limits) {
        if (archive.length > limits.maxUploadBytes()) {
            throw new SourceTooLargeException("the archive is " + archive.length + " bytes; at most "
                    + limits.maxUploadBytes() + " are allowed");
        }
        if (archive.length == 0) {
            throw new InvalidFunctionSpecException("archive", "the archive is empty (0 bytes)");
        }
        Format format = sniff(archive);
        Reading reading = new Reading(limits);
        try {
            switch (format) {
                case ZIP -> readZip(archive, reading);
                case TAR -> readTar(new ByteArrayInputStream(archive), reading);
                case TAR_GZIP -> readGzipTar(archive, reading, limits);
            }
        } catch (EOFException e) {
            throw new InvalidFunctionSpecException("archive", "the " + describe(format) + " is cut short: "
                    + e.getMessage());
        } catch (ZipException e) {
            throw new InvalidFunctionSpecException("archive", "the " + describe(format) + " is damaged: "
                    + e.getMessage());
        } catch (IOException e) {
            // Only in-memory streams here: any IOException is a decoder's complaint about the data.
            throw new InvalidFunctionSpecException("archive", "the " + describe(format) + " cannot be read: "
                    + e.getMessage());
        }
        return reading.finish();
    }

    /**
     * @return the format of these first bytes
     * @throws InvalidFunctionSpecException naming field {@code archive} when they are none of the three
     */
    static Format sniff(byte[] archive) {
        if (startsWith(archive, 'P', 'K', 3, 4) || startsWith(archive, 'P', 'K', 5, 6)) {
            // A local file header; or, for an archive without entries, the end of the central directory.
            return Format.ZIP;
        }
        if (startsWith(archive, 0x1f, 0x8b)) {
            return Format.TAR_GZIP;
        }
        if (isTarStart(archive, archive.length)) {
            return Format.TAR;
        }
        throw new InvalidFunctionSpecException("archive", "the upload is not an archive Granda reads: send a zip, a"
                + " tar, or a gzip-compressed tar (.tar.gz, .tgz)");
    }

    /** ustar's magic at offset 257 (POSIX "ustar\0", GNU "ustar  "); or a first zero block: an empty tar. */
    private static boolean isTarStart(byte[] head, int length) {
        if (length >= 263 && head[257] == 'u' && head[258] == 's' && head[259] == 't' && head[260] == 'a'
                && head[261] == 'r' && (head[262] == 0 || head[262] == ' ')) {
            return true;
        }
        if (length < TarWriter.BLOCK) {
            return false;
        }
        for (int i = 0; i < TarWriter.BLOCK; i++) {
            if (head[i] != 0) {
                return false;
            }
        }
        return true;
    }

    private static boolean startsWith(byte[] bytes, int... prefix) {
        if (bytes.length < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if ((bytes[i] & 0xff) != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    private static String describe(Format format) {
        return switch (format) {
            case ZIP -> "zip archive";
            case TAR -> "tar archive";
            case TAR_GZIP -> "gzip-compressed tar archive";
        };
    }

    // ---- tar ----

    private static void readGzipTar(byte[] archive, Reading reading, SourceLimits limits) throws IOException {
        long streamLimit = limits.maxTotalBytes() + (long) TAR_OVERHEAD_PER_FILE * limits.maxFiles();
        InputStream tar = new BoundedStream(new GZIPInputStream(new ByteArrayInputStream(archive), CHUNK),
                streamLimit, limits.maxTotalBytes());
        // The first block says whether a tar is inside; the reader then starts from the same bytes.
        byte[] head = tar.readNBytes(TarWriter.BLOCK);
        if (!isTarStart(head, head.length)) {
            throw new InvalidFunctionSpecException("archive", "the upload is gzip-compressed but not a tar archive:"
                    + " send a zip, a tar, or a gzip-compressed tar (.tar.gz, .tgz)");
        }
        readTar(new SequenceInputStream(new ByteArrayInputStream(head), tar), reading);
    }

    private static void readTar(InputStream in, Reading reading) throws IOException {
        TarReader tar = new TarReader(in);
        TarReader.Entry entry;
        while ((entry = tar.next()) != null) {
            String name = withoutDotSlash(entry.name());
            char type = entry.type();
            if (type == '0' && name.endsWith("/") && entry.size() == 0) {
                // Pre-POSIX archivers marked directories with a trailing slash only.
                type = '5';
            }
            switch (type) {
                case '0' -> {
                    if (reading.accept(entry.name(), name)) {
                        reading.add(name, tar.content());
                    } else {
                        reading.drain(tar.content());
                    }
                }
                case '5', 'D' -> reading.directory(entry.name(), name);
                case 'V' -> {
                    // A GNU volume label: a name for the archive, not a file.
                }
                case '1' -> throw refused(entry.name(), "is a hard link (to '" + printable(entry.linkName())
                        + "')");
                case '2' -> throw refused(entry.name(), "is a symbolic link (to '" + printable(entry.linkName())
                        + "')");
                case '3', '4' -> throw refused(entry.name(), "is a device");
                case '6' -> throw refused(entry.name(), "is a FIFO");
                default -> throw refused(entry.name(), "has the unsupported tar entry type '" + printable(
                        String.valueOf(type)) + "'");
            }
        }
    }

    // ---- zip ----

    private static void readZip(byte[] archive, Reading reading) throws IOException {
        Map<String, Integer> unixModes = ZipCentralDirectory.unixModes(archive);
        try (ZipInputStream zip = new ZipInputStream(new ByteArrayInputStream(archive), StandardCharsets.UTF_8)) {
            ZipEntry entry;
            while ((entry = nextZipEntry(zip)) != null) {
                String raw = entry.getName();
                String name = withoutDotSlash(raw);
                Integer mode = unixModes.get(raw);
                int kind = mode == null ? 0 : mode & 0170000;
                if (kind == 0120000) {
                    throw refused(raw, "is a symbolic link (its Unix mode says so)");
                }
                if (kind == 0020000 || kind == 0060000) {
                    throw refused(raw, "is a device");
                }
                if (kind == 0010000 || kind == 0140000) {
                    throw refused(raw, "is a FIFO or a socket");
                }
                if (entry.isDirectory() || kind == 0040000) {
                    reading.directory(raw, name);
                    // A directory has no data; should a crafted one have some, it counts all the same.
                    reading.drain(zip);
                } else if (reading.accept(raw, name)) {
                    reading.add(name, zip);
                } else {
                    reading.drain(zip);
                }
            }
        }
    }

    private static ZipEntry nextZipEntry(ZipInputStream zip) throws IOException {
        try {
            return zip.getNextEntry();
        } catch (IllegalArgumentException e) {
            // The JDK's answer to a name that is not valid UTF-8.
            throw new InvalidFunctionSpecException("archive", "the zip archive holds an entry whose name is not"
                    + " valid UTF-8");
        }
    }

    // ---- common ----

    /** Drops a leading {@code ./} (as {@code tar -C dir -cf x.tar .} writes), repeatedly. */
    private static String withoutDotSlash(String name) {
        String n = name;
        while (n.startsWith("./")) {
            n = n.substring(2);
        }
        return n.equals(".") ? "" : n;
    }

    static InvalidFunctionSpecException refused(String entry, String why) {
        return new InvalidFunctionSpecException("archive", "archive entry '" + printable(entry) + "' " + why
                + "; only regular files and directories are accepted");
    }

    static String printable(String s) {
        StringBuilder b = new StringBuilder(Math.min(s.length(), 300));
        for (int i = 0; i < s.length() && i < 300; i++) {
            char c = s.charAt(i);
            b.append(c < 0x20 || c == 0x7f ? '?' : c);
        }
        return s.length() > 300 ? b + "..." : b.toString();
    }

    /** The files read so far and the limits' counters. Not thread-safe: one per archive. */
    private static final class Reading {
        private final SourceLimits limits;
        private final List<String> paths = new ArrayList<>();
        private final List<byte[]> contents = new ArrayList<>();
        private long totalBytes;

        Reading(SourceLimits limits) {
            this.limits = limits;
        }

        /**
         * Checks a file entry's path and counts it.
         *
         * @return false when the entry is to be skipped (macOS metadata)
         */
        boolean accept(String raw, String name) {
            if (name.startsWith(MAC_METADATA)) {
                return false;
            }
            checkEntryPath(raw, name);
            if (paths.size() >= limits.maxFiles()) {
                throw new SourceTooLargeException("the archive holds more than " + limits.maxFiles()
                        + " files, the most allowed");
            }
            return true;
        }

        void directory(String raw, String name) {
            String dir = name.endsWith("/") ? name.substring(0, name.length() - 1) : name;
            if (!dir.isEmpty() && !(dir + "/").startsWith(MAC_METADATA)) {
                checkEntryPath(raw, dir);
            }
        }

        private void checkEntryPath(String raw, String name) {
            try {
                FunctionSource.checkPath(name);
            } catch (InvalidFunctionSpecException e) {
                throw new InvalidFunctionSpecException("archive", "archive entry '" + printable(raw) + "' is refused: "
                        + e.getMessage());
            }
        }

        /** Reads one file's content, stopping as soon as the total passes the limit. */
        void add(String name, InputStream content) throws IOException {
            paths.add(name);
            contents.add(readCounted(content));
        }

        /** Reads and drops an entry's data, counting it all the same: skipped data costs inflating too. */
        void drain(InputStream content) throws IOException {
            readCounted(content);
        }

        private byte[] readCounted(InputStream content) throws IOException {
            List<byte[]> chunks = new ArrayList<>();
            int size = 0;
            while (true) {
                // Never more than the budget left plus one byte: the byte that proves the limit passed.
                long budget = limits.maxTotalBytes() - totalBytes + 1;
                byte[] chunk = content.readNBytes((int) Math.min(CHUNK, budget));
                if (chunk.length == 0) {
                    break;
                }
                totalBytes += chunk.length;
                if (totalBytes > limits.maxTotalBytes()) {
                    throw new SourceTooLargeException("the archive's files unpack to more than "
                            + limits.maxTotalBytes() + " bytes, the most allowed; reading stopped there");
                }
                chunks.add(chunk);
                size += chunk.length;
            }
            byte[] out = new byte[size];
            int at = 0;
            for (byte[] chunk : chunks) {
                System.arraycopy(chunk, 0, out, at, chunk.length);
                at += chunk.length;
            }
            return out;
        }

        List<SourceFile> finish() {
            if (paths.isEmpty()) {
                throw new InvalidFunctionSpecException("archive", "the archive holds no files");
            }
            String top = commonTopDirectory(paths);
            List<SourceFile> files = new ArrayList<>(paths.size());
            Map<String, String> byLowerCase = new HashMap<>();
            Set<String> directories = new HashSet<>();
            for (int i = 0; i < paths.size(); i++) {
                String path = top == null ? paths.get(i) : paths.get(i).substring(top.length() + 1);
                String other = byLowerCase.putIfAbsent(path.toLowerCase(Locale.ROOT), path);
                if (other != null) {
                    throw new InvalidFunctionSpecException("archive", other.equals(path)
                            ? "the archive holds '" + printable(path) + "' twice"
                            : "the archive holds '" + printable(other) + "' and '" + printable(path)
                                    + "': paths must differ in more than case");
                }
                for (int slash = path.indexOf('/'); slash > 0; slash = path.indexOf('/', slash + 1)) {
                    directories.add(path.substring(0, slash).toLowerCase(Locale.ROOT));
                }
                files.add(new SourceFile(path, contents.get(i)));
            }
            for (SourceFile f : files) {
                if (directories.contains(f.path().toLowerCase(Locale.ROOT))) {
                    throw new InvalidFunctionSpecException("archive", "the archive holds '" + printable(f.path())
                            + "' both as a file and as a directory");
                }
            }
            return files;
        }

        /** @return the first path segment when every path has more than one and they all share it, else null */
        private static String commonTopDirectory(List<String> paths) {
            String top = null;
            for (String path : paths) {
                int slash = path.indexOf('/');
                if (slash < 0) {
                    return null;
                }
                String first = path.substring(0, slash);
                if (top == null) {
                    top = first;
                } else if (!top.equals(first)) {
                    return null;
                }
            }
            return top;
        }
    }

    /**
     * A decompressed stream that may not run longer than a bound: a tar bomb made of headers or skipped data is
     * stopped as surely as one made of file contents.
     */
    private static final class BoundedStream extends FilterInputStream {
        private final long limit;
        private final long filesLimit;
        private long count;

        BoundedStream(InputStream in, long limit, long filesLimit) {
            super(in);
            this.limit = limit;
            this.filesLimit = filesLimit;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) {
                count += n;
                if (count > limit) {
                    throw new SourceTooLargeException("the archive unpacks to more than " + limit + " bytes, the"
                            + " most allowed (" + filesLimit + " bytes of files plus their headers); reading stopped"
                            + " there");
                }
            }
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            // Skipping inflates all the same: count it.
            byte[] buffer = new byte[(int) Math.min(n, CHUNK)];
            long skipped = 0;
            while (skipped < n) {
                int r = read(buffer, 0, (int) Math.min(buffer.length, n - skipped));
                if (r < 0) {
                    break;
                }
                skipped += r;
            }
            return skipped;
        }
    }

    /**
     * The Unix modes a zip's central directory records: the only place a zip says an entry is a link or a device
     * (local headers carry no attributes). Best effort: a zip whose central directory cannot be found or read yields
     * no modes, and its entries are taken as the local headers describe them.
     */
    static final class ZipCentralDirectory {
        private static final int END_SIGNATURE = 0x06054b50;
        private static final int END_SIZE = 22;
        private static final int ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
        private static final int ZIP64_END_SIGNATURE = 0x06064b50;
        private static final int ENTRY_SIGNATURE = 0x02014b50;
        private static final int HOST_UNIX = 3;

        private ZipCentralDirectory() {
        }

        /** @return each entry's Unix mode (file type and permissions) by name, for entries made on Unix */
        static Map<String, Integer> unixModes(byte[] zip) {
            Map<String, Integer> modes = new HashMap<>();
            int end = findEnd(zip);
            if (end < 0) {
                return modes;
            }
            long entries = u16(zip, end + 10);
            long offset = u32(zip, end + 16);
            if ((entries == 0xffff || offset == 0xffffffffL) && end >= 20
                    && u32(zip, end - 20) == ZIP64_LOCATOR_SIGNATURE) {
                long zip64End = u64(zip, end - 20 + 8);
                if (zip64End < 0 || zip64End > zip.length - 56 || u32(zip, (int) zip64End) != ZIP64_END_SIGNATURE) {
                    return modes;
                }
                entries = u64(zip, (int) zip64End + 32);
                offset = u64(zip, (int) zip64End + 48);
            }
            long at = offset;
            for (long i = 0; i < entries; i++) {
                if (at < 0 || at > zip.length - 46 || u32(zip, (int) at) != ENTRY_SIGNATURE) {
                    break;
                }
                int p = (int) at;
                int host = (int) (u16(zip, p + 4) >> 8);
                int nameLength = (int) u16(zip, p + 28);
                int extraLength = (int) u16(zip, p + 30);
                int commentLength = (int) u16(zip, p + 32);
                long external = u32(zip, p + 38);
                if (p + 46L + nameLength > zip.length) {
                    break;
                }
                String name = new String(zip, p + 46, nameLength, StandardCharsets.UTF_8);
                if (host == HOST_UNIX) {
                    modes.put(name, (int) (external >>> 16));
                }
                at += 46L + nameLength + extraLength + commentLength;
            }
            return modes;
        }

        /** @return the offset of the end-of-central-directory record, searched backwards past any comment */
        private static int findEnd(byte[] zip) {
            int lowest = Math.max(0, zip.length - END_SIZE - 0xffff);
            for (int i = zip.length - END_SIZE; i >= lowest; i--) {
                if (u32(zip, i) == END_SIGNATURE) {
                    return i;
                }
            }
            return -1;
        }

        private static long u16(byte[] b, int at) {
            return (b[at] & 0xff) | (b[at + 1] & 0xff) << 8;
        }

        private static long u32(byte[] b, int at) {
            return u16(b, at) | u16(b, at + 2) << 16;
        }

        private static long u64(byte[] b, int at) {
            return u32(b, at) | u32(b, at + 4) << 32;
        }
    }
}
