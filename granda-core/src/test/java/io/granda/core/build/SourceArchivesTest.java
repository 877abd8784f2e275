package io.granda.core.build;

import io.granda.core.InvalidFunctionSpecException;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SourceArchivesTest {

    private static final SourceLimits LIMITS = SourceLimits.DEFAULTS;

    // ---- formats ----

    @Test
    void readsAZip() throws IOException {
        byte[] zip = zip(Map.of("handler.py", "def handle(r):\n    return r\n", "lib/util.py", "X = 1\n"));
        List<SourceFile> files = SourceArchives.read(zip, LIMITS);
        assertEquals(Map.of("handler.py", "def handle(r):\n    return r\n", "lib/util.py", "X = 1\n"), asMap(files));
    }

    @Test
    void readsATarKeepingTheArchiveOrder() throws IOException {
        Map<String, String> content = new LinkedHashMap<>();
        content.put("main.go", "package main\n");
        content.put("go.mod", "module fn\n");
        content.put("internal/a/b.go", "package a\n");
        List<SourceFile> files = SourceArchives.read(tar(content), LIMITS);
        assertEquals(List.of("main.go", "go.mod", "internal/a/b.go"), files.stream().map(SourceFile::path).toList());
        assertEquals(content, asMap(files));
    }

    @Test
    void readsAGzipCompressedTar() throws IOException {
        byte[] tgz = gzip(tar(Map.of("index.js", "module.exports = x => x;\n", "package.json", "{}")));
        assertEquals(Map.of("index.js", "module.exports = x => x;\n", "package.json", "{}"),
                asMap(SourceArchives.read(tgz, LIMITS)));
    }

    @Test
    void readsFromAStream() throws IOException {
        byte[] zip = zip(Map.of("a.txt", "a"));
        assertEquals(Map.of("a.txt", "a"), asMap(SourceArchives.read(new ByteArrayInputStream(zip), LIMITS)));
    }

    @Test
    void readsLongAndNonAsciiTarPaths() throws IOException {
        // 150 bytes: ustar's prefix and name fields; 300 bytes with a long last part: only a pax header holds it.
        String split = "d".repeat(60) + "/" + "e".repeat(60) + "/f.txt";
        String pax = "p/" + "q".repeat(120) + ".txt";
        String unicode = "données/café.py";
        Map<String, String> content = new LinkedHashMap<>();
        content.put(split, "1");
        content.put(pax, "2");
        content.put(unicode, "3");
        assertEquals(content, asMap(SourceArchives.read(tar(content), LIMITS)));
    }

    @Test
    void readsGnuLongNames() throws IOException {
        String longName = "src/" + "n".repeat(150) + ".c";
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        TarWriter w = new TarWriter(out);
        w.entry("././@LongLink", (byte) 'L', 0644, (longName + "\0").getBytes(StandardCharsets.UTF_8), "");
        w.entry(longName.substring(0, 99), (byte) '0', 0644, bytes("int x;"), "");
        w.entry("Makefile", (byte) '0', 0644, bytes("all:"), "");
        w.finish();
        assertEquals(Map.of(longName, "int x;", "Makefile", "all:"),
                asMap(SourceArchives.read(out.toByteArray(), LIMITS)));
    }

    @Test
    void dropsALeadingDotSlashAndSkipsDirectories() throws IOException {
        // What `tar -C fn -cf fn.tar .` writes.
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        TarWriter w = new TarWriter(out);
        w.entry("./", (byte) '5', 0755, new byte[0], "");
        w.entry("./handler.py", (byte) '0', 0644, bytes("h"), "");
        w.entry("./lib/", (byte) '5', 0755, new byte[0], "");
        w.entry("./lib/x.py", (byte) '0', 0644, bytes("x"), "");
        w.finish();
        assertEquals(Map.of("handler.py", "h", "lib/x.py", "x"), asMap(SourceArchives.read(out.toByteArray(), LIMITS)));
    }

    // ---- the top-level directory ----

    @Test
    void stripsASingleTopLevelDirectory() throws IOException {
        // As `zip -r fn.zip fn/` makes it: directory entries first.
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            for (String name : List.of("fn/", "fn/lib/", "fn/handler.py", "fn/lib/util.py")) {
                zip.putNextEntry(new ZipEntry(name));
                if (!name.endsWith("/")) {
                    zip.write(bytes(name));
                }
                zip.closeEntry();
            }
        }
        assertEquals(Map.of("handler.py", "fn/handler.py", "lib/util.py", "fn/lib/util.py"),
                asMap(SourceArchives.read(bytes.toByteArray(), LIMITS)));
    }

    @Test
    void stripsTheDirectoryOfAGitHubArchive() throws IOException {
        // GitHub's tarballs start with a pax global header holding the commit id.
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        TarWriter w = new TarWriter(out);
        w.entry("pax_global_header", (byte) 'g', 0666, TarWriter.paxRecord("comment", "0123abcd"), "");
        w.entry("granda-fn-0123abcd/", (byte) '5', 0775, new byte[0], "");
        w.entry("granda-fn-0123abcd/main.go", (byte) '0', 0664, bytes("package main"), "");
        w.entry("granda-fn-0123abcd/go.mod", (byte) '0', 0664, bytes("module fn"), "");
        w.finish();
        assertEquals(Map.of("main.go", "package main", "go.mod", "module fn"),
                asMap(SourceArchives.read(gzip(out.toByteArray()), LIMITS)));
    }

    @Test
    void keepsPathsThatDoNotShareOneTopLevelDirectory() throws IOException {
        assertEquals(Set.of("a/x.txt", "b/y.txt"),
                paths(SourceArchives.read(zip(Map.of("a/x.txt", "x", "b/y.txt", "y")), LIMITS)));
        assertEquals(Set.of("src/x.txt", "README"),
                paths(SourceArchives.read(zip(Map.of("src/x.txt", "x", "README", "r")), LIMITS)));
    }

    @Test
    void skipsMacOsMetadataAndStillStrips() throws IOException {
        Map<String, String> content = new LinkedHashMap<>();
        content.put("fn/handler.py", "h");
        content.put("__MACOSX/fn/._handler.py", "resource fork");
        assertEquals(Map.of("handler.py", "h"), asMap(SourceArchives.read(zip(content), LIMITS)));
    }

    // ---- refused paths ----

    @Test
    void refusesEscapingAbsoluteAndBackslashPaths() throws IOException {
        for (String name : List.of("../x", "/etc/passwd", "a/../../b", "a\\b.txt", "..\\..\\evil.bat", "a//b", "./..")) {
            InvalidFunctionSpecException inZip = assertThrows(InvalidFunctionSpecException.class,
                    () -> SourceArchives.read(zip(Map.of(name, "x")), LIMITS), name);
            assertRefusedEntry(inZip, name);
            InvalidFunctionSpecException inTar = assertThrows(InvalidFunctionSpecException.class,
                    () -> SourceArchives.read(rawTar(name, '0', "x", ""), LIMITS), name);
            assertRefusedEntry(inTar, name);
        }
    }

    @Test
    void refusesAnEscapingDirectoryEntry() throws IOException {
        InvalidFunctionSpecException e = assertThrows(InvalidFunctionSpecException.class,
                () -> SourceArchives.read(rawTar("../up/", '5', "", ""), LIMITS));
        assertRefusedEntry(e, "../up/");
    }

    @Test
    void refusesTarLinksAndDevicesWithoutFollowingThem() throws IOException {
        Map<Character, String> kinds = Map.of('2', "symbolic link", '1', "hard link", '3', "device", '4', "device",
                '6', "FIFO");
        for (Map.Entry<Character, String> kind : kinds.entrySet()) {
            byte[] tar = rawTar("passwd", kind.getKey(), "", "/etc/passwd");
            InvalidFunctionSpecException e = assertThrows(InvalidFunctionSpecException.class,
                    () -> SourceArchives.read(tar, LIMITS));
            assertEquals("archive", e.field());
            assertTrue(e.getMessage().contains("'passwd'") && e.getMessage().contains(kind.getValue()),
                    e.getMessage());
        }
    }

    @Test
    void refusesZipEntriesWhoseUnixModeIsASymlink() throws IOException {
        Map<String, String> content = new LinkedHashMap<>();
        content.put("handler.py", "h");
        content.put("link", "/etc/passwd");
        byte[] zip = withUnixMode(zip(content), "link", 0120777);
        InvalidFunctionSpecException e = assertThrows(InvalidFunctionSpecException.class,
                () -> SourceArchives.read(zip, LIMITS));
        assertEquals("archive", e.field());
        assertTrue(e.getMessage().contains("'link' is a symbolic link"), e.getMessage());
        // The same entry as a regular Unix file is accepted.
        byte[] regular = withUnixMode(zip(content), "link", 0100644);
        assertEquals(2, SourceArchives.read(regular, LIMITS).size());
    }

    @Test
    void refusesPathsThatDifferOnlyInCase() throws IOException {
        Map<String, String> content = new LinkedHashMap<>();
        content.put("Handler.py", "1");
        content.put("handler.py", "2");
        InvalidFunctionSpecException e = assertThrows(InvalidFunctionSpecException.class,
                () -> SourceArchives.read(zip(content), LIMITS));
        assertTrue(e.getMessage().contains("'Handler.py' and 'handler.py'"), e.getMessage());

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        TarWriter w = new TarWriter(out);
        w.file("a.txt", bytes("1"), TarWriter.MODE_FILE);
        w.file("a.txt", bytes("2"), TarWriter.MODE_FILE);
        w.finish();
        e = assertThrows(InvalidFunctionSpecException.class, () -> SourceArchives.read(out.toByteArray(), LIMITS));
        assertTrue(e.getMessage().contains("'a.txt' twice"), e.getMessage());
    }

    @Test
    void refusesAPathThatIsBothAFileAndADirectory() throws IOException {
        Map<String, String> content = new LinkedHashMap<>();
        content.put("lib", "1");
        content.put("lib/x.py", "2");
        InvalidFunctionSpecException e = assertThrows(InvalidFunctionSpecException.class,
                () -> SourceArchives.read(zip(content), LIMITS));
        assertTrue(e.getMessage().contains("'lib' both as a file and as a directory"), e.getMessage());
    }

    // ---- limits ----

    @Test
    void refusesTooManyFiles() throws IOException {
        SourceLimits three = new SourceLimits(3, LIMITS.maxTotalBytes(), LIMITS.maxUploadBytes());
        Map<String, String> four = new LinkedHashMap<>();
        for (int i = 0; i < 4; i++) {
            four.put("f" + i, "x");
        }
        four.remove("f3");
        assertEquals(3, SourceArchives.read(zip(four), three).size());
        four.put("f3", "x");
        SourceTooLargeException e = assertThrows(SourceTooLargeException.class,
                () -> SourceArchives.read(zip(four), three));
        assertEquals("payload_too_large", e.code());
        assertTrue(e.getMessage().contains("more than 3 files"), e.getMessage());
        assertThrows(SourceTooLargeException.class, () -> SourceArchives.read(tar(four), three));
    }

    @Test
    void refusesAnArchiveLargerThanTheUploadLimit() throws IOException {
        SourceLimits small = new SourceLimits(10, 1000, 100);
        byte[] zip = zip(Map.of("a.txt", "x".repeat(50), "b.txt", "y"));
        assertTrue(zip.length > 100);
        SourceTooLargeException e = assertThrows(SourceTooLargeException.class, () -> SourceArchives.read(zip, small));
        assertTrue(e.getMessage().contains("at most 100"), e.getMessage());
        assertThrows(SourceTooLargeException.class, () -> SourceArchives.read(new ByteArrayInputStream(zip), small));
    }

    @Test
    void refusesFilesLargerInTotalThanTheLimit() throws IOException {
        SourceLimits small = new SourceLimits(10, 100, 10_000);
        assertEquals(2, SourceArchives.read(zip(Map.of("a", "x".repeat(50), "b", "y".repeat(50))), small).size());
        SourceTooLargeException e = assertThrows(SourceTooLargeException.class,
                () -> SourceArchives.read(zip(Map.of("a", "x".repeat(50), "b", "y".repeat(51))), small));
        assertTrue(e.getMessage().contains("more than 100 bytes"), e.getMessage());
        assertThrows(SourceTooLargeException.class,
                () -> SourceArchives.read(tar(Map.of("a", "x".repeat(101))), small));
    }

    @Test
    void stopsAZipBombEarly() throws IOException {
        // 100 MiB of zeros: about 100 KiB deflated, with the sizes recorded in the headers (ZipOutputStream does).
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            zip.setLevel(Deflater.BEST_COMPRESSION);
            zip.putNextEntry(new ZipEntry("bomb.bin"));
            byte[] zeros = new byte[1024 * 1024];
            for (int i = 0; i < 100; i++) {
                zip.write(zeros);
            }
            zip.closeEntry();
        }
        byte[] bomb = bytes.toByteArray();
        assertTrue(bomb.length < 1024 * 1024, "the bomb is " + bomb.length + " bytes");
        assertBombStopped(bomb);
    }

    @Test
    void stopsAGzipTarBombEarly() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(bytes)) {
            TarWriter w = new TarWriter(gz);
            w.file("bomb.bin", new byte[100 * 1024 * 1024], TarWriter.MODE_FILE);
            w.finish();
        }
        assertBombStopped(bytes.toByteArray());
    }

    @Test
    void stopsAGzipTarOfEndlessHeaders() throws IOException {
        // Directories cost no file bytes, but their headers are decompressed all the same.
        SourceLimits limits = new SourceLimits(1, 1024 * 1024, 10 * 1024 * 1024);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(bytes)) {
            TarWriter w = new TarWriter(gz);
            for (int i = 0; i < 5000; i++) {
                w.entry("d" + i + "/", (byte) '5', 0755, new byte[0], "");
            }
            w.file("a.txt", bytes("a"), TarWriter.MODE_FILE);
            w.finish();
        }
        SourceTooLargeException e = assertThrows(SourceTooLargeException.class,
                () -> SourceArchives.read(bytes.toByteArray(), limits));
        assertTrue(e.getMessage().contains("unpacks to more than " + (1024 * 1024 + 4096)), e.getMessage());
    }

    private static void assertBombStopped(byte[] bomb) {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = threads.getCurrentThreadAllocatedBytes();
        SourceTooLargeException e = assertThrows(SourceTooLargeException.class,
                () -> SourceArchives.read(bomb, LIMITS));
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertEquals("payload_too_large", e.code());
        assertTrue(e.getMessage().contains("more than " + LIMITS.maxTotalBytes() + " bytes"), e.getMessage());
        // Reading stopped at the 20 MiB limit: far from the 100 MiB the headers announce.
        assertTrue(allocated < 50L * 1024 * 1024, "allocated " + allocated + " bytes");
    }

    // ---- not archives, damaged and empty ones ----

    @Test
    void refusesWhatIsNotAnArchive() throws IOException {
        for (byte[] notArchive : List.of(bytes("def handle(r): return r\n"), bytes("x".repeat(2000)),
                new byte[] {'P', 'K'}, bytes("Rar!\u001a\u0007\u0000 rest"))) {
            InvalidFunctionSpecException e = assertThrows(InvalidFunctionSpecException.class,
                    () -> SourceArchives.read(notArchive, LIMITS));
            assertEquals("archive", e.field());
            assertTrue(e.getMessage().contains("not an archive"), e.getMessage());
        }
        InvalidFunctionSpecException gz = assertThrows(InvalidFunctionSpecException.class,
                () -> SourceArchives.read(gzip(bytes("just text, compressed")), LIMITS));
        assertTrue(gz.getMessage().contains("gzip-compressed but not a tar"), gz.getMessage());
        InvalidFunctionSpecException empty = assertThrows(InvalidFunctionSpecException.class,
                () -> SourceArchives.read(new byte[0], LIMITS));
        assertTrue(empty.getMessage().contains("empty"), empty.getMessage());
    }

    @Test
    void refusesAnArchiveWithoutFiles() throws IOException {
        ByteArrayOutputStream emptyZip = new ByteArrayOutputStream();
        new ZipOutputStream(emptyZip).close();
        ByteArrayOutputStream emptyTar = new ByteArrayOutputStream();
        new TarWriter(emptyTar).finish();
        byte[] onlyDirectories = rawTar("dir/", '5', "", "");
        for (byte[] archive : List.of(emptyZip.toByteArray(), emptyTar.toByteArray(), gzip(emptyTar.toByteArray()),
                onlyDirectories)) {
            InvalidFunctionSpecException e = assertThrows(InvalidFunctionSpecException.class,
                    () -> SourceArchives.read(archive, LIMITS));
            assertEquals("archive", e.field());
            assertTrue(e.getMessage().contains("holds no files"), e.getMessage());
        }
    }

    @Test
    void refusesDamagedArchives() throws IOException {
        byte[] tar = tar(Map.of("a.txt", "hello"));
        byte[] badChecksum = tar.clone();
        badChecksum[0] ^= 1;
        // Still "ustar" at 257, so it is taken for a tar, whose header then fails its checksum.
        InvalidFunctionSpecException e = assertThrows(InvalidFunctionSpecException.class,
                () -> SourceArchives.read(badChecksum, LIMITS));
        assertTrue(e.getMessage().contains("checksum"), e.getMessage());

        byte[] cut = Arrays.copyOf(tar(Map.of("a.txt", "x".repeat(2000))), 1024);
        e = assertThrows(InvalidFunctionSpecException.class, () -> SourceArchives.read(cut, LIMITS));
        assertTrue(e.getMessage().contains("cut short") || e.getMessage().contains("ends inside"), e.getMessage());

        byte[] zip = zip(Map.of("a.txt", "hello hello hello hello"));
        byte[] cutZip = Arrays.copyOf(zip, 40);
        e = assertThrows(InvalidFunctionSpecException.class, () -> SourceArchives.read(cutZip, LIMITS));
        assertEquals("archive", e.field());

        byte[] tgz = gzip(tar(Map.of("a.txt", "hello")));
        byte[] cutTgz = Arrays.copyOf(tgz, tgz.length / 2);
        e = assertThrows(InvalidFunctionSpecException.class, () -> SourceArchives.read(cutTgz, LIMITS));
        assertEquals("archive", e.field());
    }

    // ---- helpers ----

    private static void assertRefusedEntry(InvalidFunctionSpecException e, String name) {
        assertEquals("archive", e.field());
        assertTrue(e.getMessage().contains("archive entry '" + name + "'"), e.getMessage());
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static Map<String, String> asMap(List<SourceFile> files) {
        Map<String, String> map = new LinkedHashMap<>();
        for (SourceFile f : files) {
            map.put(f.path(), f.contentAsString());
        }
        return map;
    }

    static byte[] zip(Map<String, String> files) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            for (Map.Entry<String, String> f : files.entrySet()) {
                zip.putNextEntry(new ZipEntry(f.getKey()));
                zip.write(bytes(f.getValue()));
                zip.closeEntry();
            }
        }
        return bytes.toByteArray();
    }

    static byte[] tar(Map<String, String> files) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        TarWriter w = new TarWriter(out);
        for (Map.Entry<String, String> f : files.entrySet()) {
            w.file(f.getKey(), bytes(f.getValue()), TarWriter.MODE_FILE);
        }
        w.finish();
        return out.toByteArray();
    }

    private static byte[] rawTar(String name, char type, String content, String linkName) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        TarWriter w = new TarWriter(out);
        w.entry(name, (byte) type, 0644, bytes(content), linkName);
        w.finish();
        return out.toByteArray();
    }

    private static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(bytes)) {
            gz.write(data);
        }
        return bytes.toByteArray();
    }

    /**
     * Marks one entry of a zip as made on Unix with this mode, as Info-ZIP's {@code zip --symlinks} does: host byte 3
     * in "version made by" and the mode in the upper half of the external attributes of its central directory entry.
     */
    private static byte[] withUnixMode(byte[] zip, String name, int mode) {
        byte[] out = zip.clone();
        byte[] nameBytes = bytes(name);
        for (int i = 0; i + 46 + nameBytes.length <= out.length; i++) {
            if (out[i] == 'P' && out[i + 1] == 'K' && out[i + 2] == 1 && out[i + 3] == 2
                    && (out[i + 28] & 0xff | (out[i + 29] & 0xff) << 8) == nameBytes.length
                    && Arrays.equals(out, i + 46, i + 46 + nameBytes.length, nameBytes, 0,
                    nameBytes.length)) {
                out[i + 5] = 3;
                long external = (long) mode << 16;
                for (int b = 0; b < 4; b++) {
                    out[i + 38 + b] = (byte) (external >>> (8 * b));
                }
                return out;
            }
        }
        throw new AssertionError("no central directory entry for " + name);
    }

    private static Set<String> paths(List<SourceFile> files) {
        return Set.copyOf(files.stream().map(SourceFile::path).toList());
    }

    @Test
    void readsWhatTarWriterWritesWithItsModes() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        TarWriter w = new TarWriter(out);
        w.file("run.sh", bytes("#!/bin/sh\necho hi\n"), TarWriter.MODE_EXECUTABLE);
        w.file("data.txt", bytes("x"), TarWriter.MODE_FILE);
        w.finish();
        byte[] tar = out.toByteArray();
        assertEquals(512 * 4 + 1024, tar.length);
        assertEquals("0000755", new String(tar, 100, 7, StandardCharsets.US_ASCII));
        assertEquals("0000644", new String(tar, 1024 + 100, 7, StandardCharsets.US_ASCII));
        assertArrayEquals(bytes("#!/bin/sh\necho hi\n"), SourceArchives.read(tar, LIMITS).getFirst().content());
        assertThrows(IllegalArgumentException.class, () -> w.file("../x", new byte[0], TarWriter.MODE_FILE));
    }
}
