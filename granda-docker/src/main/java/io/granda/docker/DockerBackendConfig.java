package io.granda.docker;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Configuration of a {@link DockerBackend}: an immutable value with safe defaults ({@link #defaults(String)}) and one
 * place that judges it ({@link #validate()}).
 *
 * @param dockerHost      the engine's address, {@code unix:///path} or {@code tcp://host:port} (plain, no TLS);
 *                        default: the {@code DOCKER_HOST} environment variable, else {@value #DEFAULT_DOCKER_HOST}
 * @param ownerId         labels every container as {@code io.granda.owner=<ownerId>}; {@link DockerBackend#reapLeftovers()}
 *                        removes exactly the containers carrying it. Required; letters, digits, {@code _ . -}
 * @param maxConnections  pooled connections to the engine (default 100). Each running call holds one briefly per
 *                        request; its attach stream has a connection of its own outside the pool
 * @param connectTimeout  longest wait to connect to the engine (default 5 s)
 * @param responseTimeout longest the engine may stay silent while answering one pooled request (default 60 s);
 *                        enforced by the transport on {@code tcp://} hosts only. A call's run is bounded by its own
 *                        timeout, a pull by {@code pullTimeout}
 * @param pullTimeout     longest an image pull may take (default 5 min)
 * @param teardownTimeout longest the removal of a container may take (default 10 s); it never uses the caller's
 *                        deadline, so a call that ran out of time still cleans up
 * @param networkMode     the containers' network mode (default {@value #DEFAULT_NETWORK_MODE}: functions get no
 *                        network at all)
 * @param runDirectory    where hot instances get their private directories, {@code <runDirectory>/<instanceId>/},
 *                        bind-mounted at {@code /granda} (default {@link #defaultRunDirectory(String)}:
 *                        {@code ${java.io.tmpdir}/granda-<ownerId>}). It
 *                        belongs to this owner alone: it is made {@code 0700} and marked as Granda's, every leftover
 *                        directory in it is removed by {@link DockerBackend#reapLeftovers()}, and an existing
 *                        non-empty directory without the mark is refused. Must be absolute and short enough that
 *                        {@code <runDirectory>/<26-character id>/fn.sock} fits a unix socket address
 *                        ({@value #MAX_SOCKET_PATH_BYTES} bytes). The engine must see the same file system, i.e.
 *                        run on this host
 * @param hardening       how every container (run mode and hot mode) is locked down; default
 *                        {@link Hardening#DEFAULTS}
 * @param egress          the functions an operator lets reach a network, and which network they join; default
 *                        {@link Egress#NONE}: every function has {@code networkMode}
 */
public record DockerBackendConfig(
        String dockerHost,
        String ownerId,
        int maxConnections,
        Duration connectTimeout,
        Duration responseTimeout,
        Duration pullTimeout,
        Duration teardownTimeout,
        String networkMode,
        Path runDirectory,
        Hardening hardening,
        Egress egress) {

    /**
     * The lock-down every container gets, run mode and hot mode alike. The Docker socket is never mounted into a
     * container, whatever this says: the only bind mount is a hot instance's own directory.
     *
     * @param user                the user the function's process runs as, {@code uid[:gid]} or a name the image
     *                            knows (default {@value #DEFAULT_USER}, "nobody"); blank: the image's own
     *                            {@code USER}, for images whose entrypoint needs root. A numeric uid also owns hot
     *                            instances' directories
     * @param readOnlyRootfs      whether the image's file system is read-only (default true); only {@code /tmp}
     *                            and a hot instance's {@code /granda} are writable
     * @param tmpSizeMb           size of the tmpfs mounted at {@code /tmp} in MiB (default 64); 0: none (then, with
     *                            a read-only root file system, nothing but {@code /granda} is writable)
     * @param tmpNoexec           whether {@code /tmp} is mounted {@code noexec} (default true; always
     *                            {@code rw,nosuid,nodev})
     * @param dropAllCapabilities whether every Linux capability is dropped ({@code --cap-drop ALL}, default true)
     * @param noNewPrivileges     whether setuid binaries and file capabilities are disarmed
     *                            ({@code --security-opt no-new-privileges}, default true)
     * @param pidsLimit           most processes and threads a container may have (default 128); 0: no limit
     * @param cpus                CPUs a container may use ({@code --cpus}, default 1.0); 0: no limit
     * @param nofileLimit         open files per process ({@code --ulimit nofile}, soft and hard, default 1024); 0:
     *                            the engine's default
     * @param logMaxSize          the {@code json-file} log's size limit (default {@value #DEFAULT_LOG_MAX_SIZE}),
     *                            a number with {@code k}, {@code m} or {@code g}
     * @param logMaxFiles         log files kept (default 1)
     */
    public record Hardening(
            String user,
            boolean readOnlyRootfs,
            int tmpSizeMb,
            boolean tmpNoexec,
            boolean dropAllCapabilities,
            boolean noNewPrivileges,
            long pidsLimit,
            double cpus,
            long nofileLimit,
            String logMaxSize,
            int logMaxFiles) {

        /** "nobody" on most distributions; numeric, so that images without {@code /etc/passwd} can use it. */
        public static final String DEFAULT_USER = "65534:65534";

        /** The log size limit by default. */
        public static final String DEFAULT_LOG_MAX_SIZE = "1m";

        /** The defaults described on the record. */
        public static final Hardening DEFAULTS = new Hardening(DEFAULT_USER, true, 64, true, true, true, 128, 1.0,
                1024, DEFAULT_LOG_MAX_SIZE, 1);

        /** None of it: the engine's defaults and the image's user. Only for trusted functions. */
        public static final Hardening NONE = new Hardening("", false, 0, false, false, false, 0, 0, 0,
                DEFAULT_LOG_MAX_SIZE, 1);

        private static final Pattern LOG_SIZE = Pattern.compile("[1-9][0-9]{0,9}[kmg]");

        /** @return a copy running as another user; blank for the image's own */
        public Hardening withUser(String u) {
            return new Hardening(u, readOnlyRootfs, tmpSizeMb, tmpNoexec, dropAllCapabilities, noNewPrivileges,
                    pidsLimit, cpus, nofileLimit, logMaxSize, logMaxFiles);
        }

        /** @return a copy with or without a read-only root file system */
        public Hardening withReadOnlyRootfs(boolean readOnly) {
            return new Hardening(user, readOnly, tmpSizeMb, tmpNoexec, dropAllCapabilities, noNewPrivileges,
                    pidsLimit, cpus, nofileLimit, logMaxSize, logMaxFiles);
        }

        /** @return a copy with another {@code /tmp} */
        public Hardening withTmp(int sizeMb, boolean noexec) {
            return new Hardening(user, readOnlyRootfs, sizeMb, noexec, dropAllCapabilities, noNewPrivileges,
                    pidsLimit, cpus, nofileLimit, logMaxSize, logMaxFiles);
        }

        /** @return a copy with capabilities and no-new-privileges set so */
        public Hardening withPrivileges(boolean dropAll, boolean noNew) {
            return new Hardening(user, readOnlyRootfs, tmpSizeMb, tmpNoexec, dropAll, noNew, pidsLimit, cpus,
                    nofileLimit, logMaxSize, logMaxFiles);
        }

        /** @return a copy with other process, CPU and open-file limits (0: none) */
        public Hardening withLimits(long pids, double cpuCount, long nofile) {
            return new Hardening(user, readOnlyRootfs, tmpSizeMb, tmpNoexec, dropAllCapabilities, noNewPrivileges,
                    pids, cpuCount, nofile, logMaxSize, logMaxFiles);
        }

        /** @return a copy with other log limits */
        public Hardening withLog(String maxSize, int maxFiles) {
            return new Hardening(user, readOnlyRootfs, tmpSizeMb, tmpNoexec, dropAllCapabilities, noNewPrivileges,
                    pidsLimit, cpus, nofileLimit, maxSize, maxFiles);
        }

        /** @return the numeric uid of {@link #user()}, or -1 when it is blank or a name */
        int numericUid() {
            return numericPart(0);
        }

        /** @return the numeric gid of {@link #user()} ({@code uid:gid}), the uid when none is given, or -1 */
        int numericGid() {
            int gid = numericPart(1);
            return gid >= 0 ? gid : (user != null && user.strip().contains(":") ? -1 : numericUid());
        }

        private int numericPart(int index) {
            if (user == null || user.isBlank()) {
                return -1;
            }
            String[] parts = user.strip().split(":", -1);
            if (index >= parts.length) {
                return -1;
            }
            try {
                return Integer.parseInt(parts[index]);
            } catch (NumberFormatException e) {
                return -1;
            }
        }

        /**
         * @return the tmpfs options of {@code /tmp}; {@code mode=1777} as on every distribution, so that any user can
         *         write there (the engine copies up an image's own {@code /tmp} and keeps its mode, though)
         */
        String tmpOptions() {
            return "rw,nosuid,nodev" + (tmpNoexec ? ",noexec" : "") + ",size=" + tmpSizeMb + "m,mode=1777";
        }

        void check(List<String> problems) {
            if (user != null && !user.isBlank() && !user.strip().matches("[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)?")) {
                problems.add("hardening.user '" + user + "' must be uid[:gid] or a user name (blank: the image's)");
            }
            if (tmpSizeMb < 0) {
                problems.add("hardening.tmpSizeMb must be 0 (no /tmp) or more, was " + tmpSizeMb);
            }
            if (pidsLimit < 0) {
                problems.add("hardening.pidsLimit must be 0 (no limit) or more, was " + pidsLimit);
            }
            if (!(cpus >= 0) || Double.isInfinite(cpus)) {
                problems.add("hardening.cpus must be 0 (no limit) or more, was " + cpus);
            }
            if (nofileLimit < 0) {
                problems.add("hardening.nofileLimit must be 0 (the engine's default) or more, was " + nofileLimit);
            }
            if (logMaxSize == null || !LOG_SIZE.matcher(logMaxSize).matches()) {
                problems.add("hardening.logMaxSize '" + logMaxSize + "' must be a number with k, m or g, e.g. 1m");
            }
            if (logMaxFiles < 1) {
                problems.add("hardening.logMaxFiles must be at least 1, was " + logMaxFiles);
            }
        }
    }

    /** The engine's address when {@code DOCKER_HOST} is not set. */
    public static final String DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock";

    /** Functions get no network unless configured otherwise. */
    public static final String DEFAULT_NETWORK_MODE = "none";

    /**
     * The longest path a unix socket address can hold on Linux: {@code sun_path} is 108 bytes with its terminating
     * NUL.
     */
    public static final int MAX_SOCKET_PATH_BYTES = 107;

    /** The length of the instance ids Granda hands out ({@code io.granda.core.Ids#newTimeOrderedId}). */
    static final int INSTANCE_ID_LENGTH = 26;

    /** The socket's name inside an instance's directory. */
    static final String SOCKET_NAME = "fn.sock";

    /** Owner ids are used in label filters: keep them to characters that need no quoting anywhere. */
    private static final Pattern OWNER_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}");

    /**
     * Network egress, an exception an operator grants to named functions: their containers join {@code network}
     * (a Docker network the operator made, e.g. {@code docker network create granda-egress}, with whatever firewall
     * rules the operator wants) instead of getting {@code networkMode}. Every other function keeps none. A function is
     * named, not identified: deleting an allowed function and creating another of the same name gives the new one
     * egress too, so keep the list to functions you own.
     *
     * @param network   the Docker network allowed functions join; blank when there is none
     * @param functions names of the functions allowed egress
     */
    public record Egress(String network, Set<String> functions) {

        /** No function has egress. */
        public static final Egress NONE = new Egress("", Set.of());

        public Egress {
            network = network == null ? "" : network.strip();
            functions = Set.copyOf(functions);
        }

        /** @return whether this function's containers join the egress network */
        public boolean allows(String functionName) {
            return !network.isEmpty() && functions.contains(functionName);
        }

        void validate(List<String> problems) {
            if (!functions.isEmpty() && network.isEmpty()) {
                problems.add("egress functions " + new TreeSet<>(functions) + " are listed but no egress network is"
                        + " set (docker.egress-network)");
            }
            if (network.equals("host")) {
                problems.add("the egress network must be a Docker network of its own, not 'host': host networking"
                        + " would give functions the host's interfaces and loopback services");
            }
        }
    }

    /** @return the network mode of this function's containers: the egress network when allowed, else networkMode */
    public String networkModeFor(String functionName) {
        return egress.allows(functionName) ? egress.network() : networkMode;
    }

    /** @return a copy with other egress */
    public DockerBackendConfig withEgress(Egress e) {
        return new DockerBackendConfig(dockerHost, ownerId, maxConnections, connectTimeout, responseTimeout,
                pullTimeout, teardownTimeout, networkMode, runDirectory, hardening, Objects.requireNonNull(e));
    }

    /**
     * @param ownerId labels every container this backend creates
     * @return the defaults described on the record, for this owner
     */
    public static DockerBackendConfig defaults(String ownerId) {
        return new DockerBackendConfig(defaultDockerHost(), ownerId, 100, Duration.ofSeconds(5),
                Duration.ofSeconds(60), Duration.ofMinutes(5), Duration.ofSeconds(10), DEFAULT_NETWORK_MODE,
                defaultRunDirectory(ownerId), Hardening.DEFAULTS, Egress.NONE);
    }

    /**
     * @return {@code ${java.io.tmpdir}/granda-<ownerId>}; when that is too long for the sockets under it (a long owner
     *         id), {@code ${java.io.tmpdir}/granda-<16 hex digits of the owner id's SHA-256>} instead, so that a
     *         long owner id never makes the defaults invalid
     */
    public static Path defaultRunDirectory(String ownerId) {
        Path tmp = Path.of(System.getProperty("java.io.tmpdir")).toAbsolutePath();
        Path plain = tmp.resolve("granda-" + ownerId);
        if (socketPathBytes(plain, INSTANCE_ID_LENGTH) <= MAX_SOCKET_PATH_BYTES) {
            return plain;
        }
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256")
                    .digest(String.valueOf(ownerId).getBytes(StandardCharsets.UTF_8));
            return tmp.resolve("granda-" + HexFormat.of().formatHex(digest, 0, 8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    /** @return {@code DOCKER_HOST} when set and not blank, else {@value #DEFAULT_DOCKER_HOST} */
    public static String defaultDockerHost() {
        String env = System.getenv("DOCKER_HOST");
        return env == null || env.isBlank() ? DEFAULT_DOCKER_HOST : env.strip();
    }

    /** @return a copy talking to another engine */
    public DockerBackendConfig withDockerHost(String host) {
        return new DockerBackendConfig(host, ownerId, maxConnections, connectTimeout, responseTimeout, pullTimeout,
                teardownTimeout, networkMode, runDirectory, hardening, egress);
    }

    /** @return a copy with another connection pool size */
    public DockerBackendConfig withMaxConnections(int connections) {
        return new DockerBackendConfig(dockerHost, ownerId, connections, connectTimeout, responseTimeout,
                pullTimeout, teardownTimeout, networkMode, runDirectory, hardening, egress);
    }

    /** @return a copy with other connect and response timeouts */
    public DockerBackendConfig withTimeouts(Duration connect, Duration response) {
        return new DockerBackendConfig(dockerHost, ownerId, maxConnections, connect, response, pullTimeout,
                teardownTimeout, networkMode, runDirectory, hardening, egress);
    }

    /** @return a copy with another pull timeout */
    public DockerBackendConfig withPullTimeout(Duration timeout) {
        return new DockerBackendConfig(dockerHost, ownerId, maxConnections, connectTimeout, responseTimeout, timeout,
                teardownTimeout, networkMode, runDirectory, hardening, egress);
    }

    /** @return a copy with another teardown timeout */
    public DockerBackendConfig withTeardownTimeout(Duration timeout) {
        return new DockerBackendConfig(dockerHost, ownerId, maxConnections, connectTimeout, responseTimeout,
                pullTimeout, timeout, networkMode, runDirectory, hardening, egress);
    }

    /** @return a copy with another network mode */
    public DockerBackendConfig withNetworkMode(String mode) {
        return new DockerBackendConfig(dockerHost, ownerId, maxConnections, connectTimeout, responseTimeout,
                pullTimeout, teardownTimeout, mode, runDirectory, hardening, egress);
    }

    /** @return a copy whose hot instances get their directories under another run directory */
    public DockerBackendConfig withRunDirectory(Path directory) {
        return new DockerBackendConfig(dockerHost, ownerId, maxConnections, connectTimeout, responseTimeout,
                pullTimeout, teardownTimeout, networkMode, directory, hardening, egress);
    }

    /** @return a copy whose containers are locked down so */
    public DockerBackendConfig withHardening(Hardening h) {
        return new DockerBackendConfig(dockerHost, ownerId, maxConnections, connectTimeout, responseTimeout,
                pullTimeout, teardownTimeout, networkMode, runDirectory, h, egress);
    }

    /**
     * Checks every setting.
     *
     * @return this config, for chaining
     * @throws IllegalArgumentException naming every invalid setting and what is allowed
     */
    public DockerBackendConfig validate() {
        List<String> problems = new ArrayList<>();
        checkHost(problems);
        if (ownerId == null || !OWNER_ID.matcher(ownerId).matches()) {
            problems.add("ownerId '" + ownerId + "' must be 1 to 128 letters, digits, '_', '.' or '-', starting"
                    + " with a letter or digit");
        }
        if (maxConnections < 1) {
            problems.add("maxConnections must be at least 1, was " + maxConnections);
        }
        checkPositive(problems, "connectTimeout", connectTimeout);
        checkPositive(problems, "responseTimeout", responseTimeout);
        checkPositive(problems, "pullTimeout", pullTimeout);
        checkPositive(problems, "teardownTimeout", teardownTimeout);
        if (networkMode == null || networkMode.isBlank()) {
            problems.add("networkMode must not be blank (use \"none\" for no network)");
        }
        checkRunDirectory(problems);
        if (hardening == null) {
            problems.add("hardening must be set (e.g. Hardening.DEFAULTS)");
        } else {
            hardening.check(problems);
        }
        if (egress == null) {
            problems.add("egress must be set (e.g. Egress.NONE)");
        } else {
            egress.validate(problems);
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("invalid Docker backend config: " + String.join("; ", problems));
        }
        return this;
    }

    private void checkHost(List<String> problems) {
        if (dockerHost == null || dockerHost.isBlank()) {
            problems.add("dockerHost must not be blank (e.g. " + DEFAULT_DOCKER_HOST + ")");
            return;
        }
        URI uri;
        try {
            uri = URI.create(dockerHost);
        } catch (IllegalArgumentException e) {
            problems.add("dockerHost '" + dockerHost + "' is not a URI: " + e.getMessage());
            return;
        }
        String scheme = uri.getScheme();
        if ("unix".equals(scheme)) {
            if (uri.getPath() == null || uri.getPath().isEmpty()) {
                problems.add("dockerHost '" + dockerHost + "' names no socket path (e.g. " + DEFAULT_DOCKER_HOST
                        + ")");
            }
        } else if ("tcp".equals(scheme)) {
            if (uri.getHost() == null || uri.getPort() < 1) {
                problems.add("dockerHost '" + dockerHost + "' needs a host and a port (e.g. tcp://localhost:2375)");
            }
        } else {
            problems.add("dockerHost '" + dockerHost + "' must start with unix:// or tcp:// (TLS is not supported)");
        }
    }

    private void checkRunDirectory(List<String> problems) {
        if (runDirectory == null) {
            problems.add("runDirectory must be set (e.g. " + defaultRunDirectory("<ownerId>") + ")");
            return;
        }
        if (!runDirectory.isAbsolute()) {
            problems.add("runDirectory '" + runDirectory + "' must be an absolute path");
            return;
        }
        int socketPathBytes = socketPathBytes(runDirectory, INSTANCE_ID_LENGTH);
        if (socketPathBytes > MAX_SOCKET_PATH_BYTES) {
            problems.add("runDirectory '" + runDirectory + "' is too long for unix sockets: "
                    + runDirectory.resolve("<" + INSTANCE_ID_LENGTH + "-character instance id>").resolve(SOCKET_NAME)
                    + " would be " + socketPathBytes + " bytes, the limit is " + MAX_SOCKET_PATH_BYTES
                    + "; choose a run directory of at most "
                    + (MAX_SOCKET_PATH_BYTES - (socketPathBytes - pathBytes(runDirectory))) + " bytes");
        }
    }

    /** @return the length in bytes of {@code <runDirectory>/<id of this length>/fn.sock} */
    static int socketPathBytes(Path runDirectory, int instanceIdLength) {
        return pathBytes(runDirectory) + 1 + instanceIdLength + 1 + SOCKET_NAME.length();
    }

    private static int pathBytes(Path path) {
        return path.toString().getBytes(StandardCharsets.UTF_8).length;
    }

    private static void checkPositive(List<String> problems, String name, Duration value) {
        if (value == null || value.isNegative() || value.isZero()) {
            problems.add(name + " must be positive, was " + value);
        }
    }
}
