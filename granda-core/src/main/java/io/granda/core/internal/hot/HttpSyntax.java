package io.granda.core.internal.hot;

/**
 * The few HTTP/1.1 (RFC 9110/9112) character classes and header names the hot protocol client needs, on bytes for
 * parsing responses and on chars for checking requests. Stateless; thread-safe.
 */
final class HttpSyntax {

    /** {@code tchar} of RFC 9110: the characters of a token (method, header name). */
    private static final boolean[] TCHAR = new boolean[256];

    static {
        for (int c = '0'; c <= '9'; c++) {
            TCHAR[c] = true;
        }
        for (int c = 'A'; c <= 'Z'; c++) {
            TCHAR[c] = true;
            TCHAR[c + ('a' - 'A')] = true;
        }
        for (char c : "!#$%&'*+-.^_`|~".toCharArray()) {
            TCHAR[c] = true;
        }
    }

    private HttpSyntax() {
    }

    /** @return whether {@code c} (a byte as 0-255, or a char) may appear in a token */
    static boolean isTchar(int c) {
        return c < 256 && TCHAR[c];
    }

    /**
     * @return whether {@code c} may appear in a field value or reason phrase: HTAB, SP, VCHAR, obs-text. Excludes CR,
     * LF, NUL and the other controls, which is what keeps a value from smuggling a line break.
     */
    static boolean isFieldChar(int c) {
        return c == '\t' || (c >= 0x20 && c != 0x7f && c < 256);
    }

    /** @return whether {@code s} is a non-empty token */
    static boolean isToken(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            if (!isTchar(s.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    /**
     * Whether a header name given for a request is one the connection writes itself ({@code Host},
     * {@code Content-Length}) or a hop-by-hop header; such headers are not sent. Case-insensitive.
     */
    static boolean isOwnedByConnection(String name) {
        if (name.regionMatches(true, 0, "Proxy-", 0, 6)) {
            return true;
        }
        return switch (name.length()) {
            case 2 -> name.equalsIgnoreCase("TE");
            case 4 -> name.equalsIgnoreCase("Host");
            case 7 -> name.equalsIgnoreCase("Trailer") || name.equalsIgnoreCase("Upgrade");
            case 10 -> name.equalsIgnoreCase("Connection") || name.equalsIgnoreCase("Keep-Alive");
            case 14 -> name.equalsIgnoreCase("Content-Length");
            case 17 -> name.equalsIgnoreCase("Transfer-Encoding");
            default -> false;
        };
    }

    /**
     * Compares {@code len} bytes at {@code off} with a lower-case ASCII name, ignoring case. Setting bit 0x20 folds
     * upper-case letters onto lower-case ones and leaves {@code '-'} alone; no other token character folds onto a
     * letter or {@code '-'}, so this is exact for names made of letters and dashes.
     */
    static boolean equalsLower(byte[] buf, int off, int len, String lower) {
        if (len != lower.length()) {
            return false;
        }
        for (int i = 0; i < len; i++) {
            if ((buf[off + i] | 0x20) != lower.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /** @return whether the bytes at {@code off} start with the lower-case ASCII {@code prefix}, ignoring case */
    static boolean startsWithLower(byte[] buf, int off, int len, String prefix) {
        return len >= prefix.length() && equalsLower(buf, off, prefix.length(), prefix);
    }
}
