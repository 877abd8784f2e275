package io.granda.core.async;

import io.granda.core.CronSchedule;
import io.granda.core.DeployedFunction;
import io.granda.core.FunctionNotFoundException;
import io.granda.core.Granda;
import io.granda.core.GrandaException;
import io.granda.core.Ids;
import io.granda.core.InvalidFunctionSpecException;
import io.granda.core.InvocationRequest;
import io.granda.core.InvocationResult;
import io.granda.core.Outcome;
import io.granda.core.Page;
import io.granda.core.PayloadTooLargeException;
import io.granda.core.ShuttingDownException;
import io.granda.core.spi.EventStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

/**
 * Asynchronous, event-triggered invocations of a {@link Granda}'s functions, queued in an {@link EventStore}: no
 * broker to run. An event is accepted once it is durably stored ({@link #submit}); one dispatcher thread starts due
 * events within each function's {@link AsyncPolicy#concurrency()} and the platform-wide
 * {@link AsyncOptions#maxConcurrentEvents()}; each attempt is an ordinary, metered call of the function; failed
 * attempts are retried with backoff, and an event that runs out of attempts or grows too old is dead and can be
 * re-driven. Functions with a cron {@link AsyncPolicy#schedule()} get an event at each firing.
 *
 * <p>Guarantees: an accepted event reaches a final state (succeeded or dead) unless the store loses it; a succeeded
 * event is never run again. An attempt under way when the process stops is run again after the restart (counted as
 * interrupted, not failed): delivery is at least once, as with every queue that cannot know whether a crashed call
 * had its effect.
 *
 * <p>Close it before the {@link Granda} it runs on. Thread-safe.
 */
public final class GrandaEvents implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(GrandaEvents.class);
    private static final int MAX_IDEMPOTENCY_KEY_LENGTH = 200;
    /** Events taken from the store per function per dispatcher round at most. */
    private static final int DUE_BATCH = 100;
    private static final Duration PURGE_EVERY = Duration.ofHours(1);

    private final Granda granda;
    private final EventStore store;
    private final AsyncOptions options;
    private final Clock clock;
    private final Function<AsyncEvent, byte[]> callbackBody;
    private final List<AsyncEventListener> listeners;
    private final HttpClient callbacks;
    private final ExecutorService attempts = Executors.newThreadPerTaskExecutor(
            Thread.ofVirtual().name("granda-event-", 0).factory());
    private final Thread dispatcher;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition wake = lock.newCondition();
    /** Set by {@link #wake()}, cleared by the dispatcher when it starts a round: no wake-up is lost between rounds. */
    private boolean woken;
    private boolean closed;
    /** Running attempts per function id; guarded by {@link #lock}. */
    private final Map<String, Integer> runningByFunction = new HashMap<>();
    private int running;

    /** Policies by function id: this is their only writer in the process, so the copy stays true. */
    private final Map<String, AsyncPolicy> policies = new ConcurrentHashMap<>();
    /** Function names by id, for schedules (policies are kept by id). */
    private final Map<String, String> names = new ConcurrentHashMap<>();
    /** Function ids whose schedule changed since the dispatcher last looked; guarded by {@link #lock}. */
    private final Set<String> scheduleChanged = new HashSet<>();
    /** Next firing of each scheduled function; only the dispatcher thread touches it. */
    private final Map<String, Instant> nextFiring = new HashMap<>();
    /**
     * Scheduled functions as this start found them, whose firing missed while the platform was down is still to be
     * looked for (once, at their first look); only the dispatcher thread touches it after {@link #begin()}.
     */
    private final Set<String> catchUp = new HashSet<>();
    /** Most steps through a schedule when looking for its latest missed firing (a per-second one over 7 days). */
    private static final int MAX_CATCH_UP_STEPS = 700_000;
    private Instant nextPurge;

    private GrandaEvents(Builder b) {
        this.granda = b.granda;
        this.store = b.store;
        this.options = b.options;
        this.clock = granda.clock();
        this.callbackBody = b.callbackBody;
        this.listeners = List.copyOf(b.listeners);
        this.callbacks = HttpClient.newBuilder().connectTimeout(options.callbackTimeout())
                .followRedirects(HttpClient.Redirect.NEVER).build();
        this.dispatcher = Thread.ofPlatform().name("granda-events").daemon(true).unstarted(this::dispatchLoop);
    }

    /**
     * @param granda the platform whose functions the events call
     * @param store  where events and policies are kept
     * @return a builder
     */
    public static Builder builder(Granda granda, EventStore store) {
        return new Builder(granda, store);
    }

    private void begin() {
        Instant now = clock.instant();
        // Read before they are queued again, so that listeners learn which functions' attempts were cut short; no
        // dispatcher runs yet, so nothing else moves them in between.
        List<AsyncEvent> interrupted = listeners.isEmpty() ? List.of() : runningEvents();
        int requeued = store.requeueInterrupted(now);
        for (AsyncEvent e : interrupted) {
            tell(l -> l.attemptEnded(e, AsyncEventListener.AttemptOutcome.INTERRUPTED));
        }
        if (requeued > 0) {
            LOG.atWarn().addKeyValue("events", requeued)
                    .log("events were running when the platform stopped; they run again");
        }
        policies.putAll(store.policies());
        policies.forEach((id, policy) -> {
            if (policy.cron().isPresent()) {
                catchUp.add(id);
            }
        });
        for (DeployedFunction f : granda.functions()) {
            names.put(f.id(), f.name());
        }
        nextPurge = now.plus(Duration.ofMinutes(1));
        dispatcher.start();
    }

    private List<AsyncEvent> runningEvents() {
        List<AsyncEvent> running = new java.util.ArrayList<>();
        String cursor = null;
        do {
            Page<AsyncEvent> page = store.list(null, EventStatus.RUNNING, 1000, cursor);
            running.addAll(page.items());
            cursor = page.nextCursor();
        } while (cursor != null);
        return running;
    }

    /** Tells every listener; a listener's failure is its own and never stops the events. */
    private void tell(java.util.function.Consumer<AsyncEventListener> call) {
        for (AsyncEventListener l : listeners) {
            try {
                call.accept(l);
            } catch (RuntimeException e) {
                LOG.atWarn().setCause(e).addKeyValue("listener", l.getClass().getName()).log("event listener failed");
            }
        }
    }

    // ---------------------------------------------------------------------------------------------- submitting

    /**
     * Accepts an event for a function: stored durably, then run as soon as its function has a free slot.
     *
     * @param functionName   the function
     * @param request        the call to make
     * @param idempotencyKey the sender's key ({@code null} for none): the same key for the same function within
     *                       {@link AsyncOptions#idempotencyWindow()} is accepted once
     * @param callbackUrl    where the result goes when final, or {@code null} for the function's policy's
     * @param source         who sent it, e.g. {@code api}
     * @return the stored event, and whether it was a duplicate
     * @throws FunctionNotFoundException     when there is no such function
     * @throws PayloadTooLargeException      when the payload is over the platform's limit
     * @throws InvalidFunctionSpecException  for a malformed key or callback URL
     */
    public Accepted submit(String functionName, InvocationRequest request, String idempotencyKey, String callbackUrl,
                           String source) {
        DeployedFunction f = granda.function(functionName)
                .orElseThrow(() -> new FunctionNotFoundException("no function named '" + functionName + "'"));
        return submit(f, request, idempotencyKey, callbackUrl, source);
    }

    /** As {@link #submit(String, InvocationRequest, String, String, String)}, for a function already looked up. */
    public Accepted submit(DeployedFunction f, InvocationRequest request, String idempotencyKey, String callbackUrl,
                           String source) {
        Objects.requireNonNull(f, "function");
        Objects.requireNonNull(request, "request");
        ensureOpen();
        if (request.body().length > granda.options().maxPayloadBytes()) {
            throw new PayloadTooLargeException("payload is " + request.body().length + " bytes; at most "
                    + granda.options().maxPayloadBytes() + " are accepted");
        }
        String key = checkIdempotencyKey(idempotencyKey);
        String callback = callbackUrl == null || callbackUrl.isBlank() ? null
                : AsyncPolicy.checkCallbackUrl("callbackUrl", callbackUrl.strip());
        Instant now = clock.instant();
        names.put(f.id(), f.name());
        Accepted accepted = store.accept(new NewEvent(Ids.newTimeOrderedId(now), f.tenant(), f.id(), f.name(),
                Objects.requireNonNullElse(source, "api"), request, key, callback, now), options.idempotencyWindow());
        if (!accepted.duplicate()) {
            wake();
        }
        return accepted;
    }

    private static String checkIdempotencyKey(String key) {
        if (key == null) {
            return null;
        }
        if (key.isEmpty() || key.length() > MAX_IDEMPOTENCY_KEY_LENGTH
                || !key.chars().allMatch(c -> c >= 0x21 && c <= 0x7e)) {
            throw new InvalidFunctionSpecException("idempotencyKey", "an idempotency key is 1 to "
                    + MAX_IDEMPOTENCY_KEY_LENGTH + " visible ASCII characters");
        }
        return key;
    }

    // ----------------------------------------------------------------------------------------------- reading

    /** @return the event with this id */
    public Optional<AsyncEvent> event(String id) {
        return store.find(id);
    }

    /**
     * Lists a function's events (or every function's), newest first.
     *
     * @param functionName a function name, or {@code null} for all
     * @param status       a status, or {@code null} for all
     * @param limit        1 to 1000
     * @param cursor       {@code null} or the previous page's cursor
     * @return one page
     * @throws FunctionNotFoundException when the named function does not exist
     */
    public Page<AsyncEvent> events(String functionName, EventStatus status, int limit, String cursor) {
        String functionId = functionName == null ? null : functionOrThrow(functionName).id();
        return store.list(functionId, status, limit, cursor);
    }

    /** @return the function's async policy: its own, or {@link AsyncPolicy#DEFAULTS} */
    public AsyncPolicy policy(String functionName) {
        return policyOf(functionOrThrow(functionName).id());
    }

    /**
     * Sets a function's async policy; a new schedule starts from now.
     *
     * @return the policy
     */
    public AsyncPolicy setPolicy(String functionName, AsyncPolicy policy) {
        Objects.requireNonNull(policy, "policy");
        DeployedFunction f = functionOrThrow(functionName);
        store.setPolicy(f.id(), policy);
        policies.put(f.id(), policy);
        names.put(f.id(), f.name());
        lock.lock();
        try {
            scheduleChanged.add(f.id());
        } finally {
            lock.unlock();
        }
        wake();
        LOG.atInfo().addKeyValue("function", functionName).addKeyValue("maxAttempts", policy.maxAttempts())
                .addKeyValue("concurrency", policy.concurrency()).addKeyValue("schedule", policy.schedule())
                .log("async policy set");
        return policy;
    }

    /**
     * Re-drives a dead event: queued again with a fresh count of failed attempts.
     *
     * @param id the event
     * @return the queued event
     * @throws EventNotFoundException when there is no dead event with that id
     */
    public AsyncEvent redrive(String id) {
        AsyncEvent e = store.redrive(id, clock.instant()).orElseThrow(() -> new EventNotFoundException(
                store.find(id).map(found -> "event " + id + " is " + found.status().apiName()
                        + "; only a dead event can be re-driven").orElse("no event with id " + id)));
        LOG.atInfo().addKeyValue("event", id).addKeyValue("function", e.functionName()).log("event re-driven");
        wake();
        return e;
    }

    /**
     * Re-drives every dead event of a function.
     *
     * @return how many were re-driven
     */
    public int redriveDead(String functionName) {
        String functionId = functionOrThrow(functionName).id();
        int n = 0;
        String cursor = null;
        do {
            Page<AsyncEvent> page = store.list(functionId, EventStatus.DEAD, 1000, cursor);
            for (AsyncEvent e : page.items()) {
                if (store.redrive(e.id(), clock.instant()).isPresent()) {
                    n++;
                }
            }
            cursor = page.nextCursor();
        } while (cursor != null);
        if (n > 0) {
            LOG.atInfo().addKeyValue("function", functionName).addKeyValue("events", n).log("dead events re-driven");
            wake();
        }
        return n;
    }

    /**
     * Reads what waits in the queue from the store: two cheap queries ({@link EventStore#countByStatus()},
     * {@link EventStore#oldestDue(Instant)}), still too many to run for every reader; a gauge caches the answer.
     *
     * @return the counts by status and the most overdue pending event, now
     * @throws io.granda.core.StoreException when the store cannot be read
     */
    public EventBacklog backlog() {
        Instant now = clock.instant();
        return new EventBacklog(store.countByStatus(), store.oldestDue(now).orElse(null), now);
    }

    /** @return the clock events are timed by: the platform's */
    public Clock clock() {
        return clock;
    }

    /** @return attempts running now, over all functions */
    public int running() {
        lock.lock();
        try {
            return running;
        } finally {
            lock.unlock();
        }
    }

    /** @return the settings */
    public AsyncOptions options() {
        return options;
    }

    /**
     * Makes the dispatcher look at the queue and the schedules now. Granda calls it itself whenever something
     * changes; a test with a manual clock calls it after moving the clock.
     */
    public void wake() {
        lock.lock();
        try {
            woken = true;
            wake.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private DeployedFunction functionOrThrow(String name) {
        return granda.function(name)
                .orElseThrow(() -> new FunctionNotFoundException("no function named '" + name + "'"));
    }

    private AsyncPolicy policyOf(String functionId) {
        return policies.getOrDefault(functionId, AsyncPolicy.DEFAULTS);
    }

    private void ensureOpen() {
        lock.lock();
        try {
            if (closed) {
                throw new ShuttingDownException("Granda is shutting down; no events are accepted");
            }
        } finally {
            lock.unlock();
        }
    }

    // ----------------------------------------------------------------------------------------------- dispatching

    private void dispatchLoop() {
        while (true) {
            lock.lock();
            try {
                if (closed) {
                    return;
                }
                woken = false;
            } finally {
                lock.unlock();
            }
            Instant nextLook;
            try {
                Instant now = clock.instant();
                Instant nextFire = fireSchedules(now);
                Instant nextDue = dispatchDue(now);
                purgeIfDue(now);
                nextLook = earliest(now.plus(options.pollInterval()), earliest(nextFire, nextDue));
            } catch (RuntimeException e) {
                // The store may be briefly unavailable; the events are safe in it, so try again shortly.
                LOG.atError().setCause(e).log("event dispatcher round failed; retrying");
                nextLook = clock.instant().plus(options.pollInterval());
            }
            lock.lock();
            try {
                long nanos = Math.min(Duration.between(clock.instant(), nextLook).toNanos(),
                        options.pollInterval().toNanos());
                while (!woken && !closed && nanos > 0) {
                    nanos = wake.awaitNanos(nanos);
                }
            } catch (InterruptedException e) {
                return;
            } finally {
                lock.unlock();
            }
        }
    }

    private static Instant earliest(Instant a, Instant b) {
        return a == null ? b : b == null ? a : a.isBefore(b) ? a : b;
    }

    /** Starts what is due and has a free slot. @return when the earliest pending event not yet due is due */
    private Instant dispatchDue(Instant now) {
        Instant nextDue = null;
        for (Map.Entry<String, Instant> pending : store.pendingByFunction().entrySet()) {
            String functionId = pending.getKey();
            if (pending.getValue().isAfter(now)) {
                nextDue = earliest(nextDue, pending.getValue());
                continue;
            }
            AsyncPolicy policy = policyOf(functionId);
            int free = freeSlots(functionId, policy);
            if (free <= 0) {
                continue; // an attempt ending wakes the dispatcher
            }
            for (AsyncEvent e : store.due(functionId, now, Math.min(free, DUE_BATCH))) {
                startAttempt(e, policy, now);
            }
        }
        return nextDue;
    }

    private int freeSlots(String functionId, AsyncPolicy policy) {
        lock.lock();
        try {
            return Math.min(policy.concurrency() - runningByFunction.getOrDefault(functionId, 0),
                    options.maxConcurrentEvents() - running);
        } finally {
            lock.unlock();
        }
    }

    private void startAttempt(AsyncEvent e, AsyncPolicy policy, Instant now) {
        Optional<DeployedFunction> function = granda.function(e.functionName())
                .filter(f -> f.id().equals(e.functionId()));
        if (function.isEmpty()) {
            store.kill(e.id(), e.attempts(), "function deleted: " + e.functionName() + " no longer exists", now)
                    .ifPresent(dead -> died(dead, AsyncEventListener.DeadReason.FUNCTION_DELETED));
            return;
        }
        if (Duration.between(e.acceptedAt(), now).compareTo(policy.maxEventAge()) > 0) {
            store.kill(e.id(), e.attempts(), "expired: not run within maxEventAgeSeconds ("
                    + policy.maxEventAge().toSeconds() + ")", now)
                    .ifPresent(dead -> died(dead, AsyncEventListener.DeadReason.TOO_OLD));
            return;
        }
        Optional<AsyncEvent> started = store.start(e.id(), e.attempts(), now);
        if (started.isEmpty()) {
            return; // moved by someone else (a re-drive raced, or another round took it)
        }
        lock.lock();
        try {
            runningByFunction.merge(e.functionId(), 1, Integer::sum);
            running++;
        } finally {
            lock.unlock();
        }
        try {
            attempts.execute(() -> runAttempt(started.get(), function.get()));
        } catch (java.util.concurrent.RejectedExecutionException shuttingDown) {
            attemptEnded(e.functionId()); // stays RUNNING in the store: requeued at the next start
        }
    }

    private void runAttempt(AsyncEvent e, DeployedFunction f) {
        try {
            InvocationResult result;
            try {
                result = granda.invoke(f, withEventHeaders(e));
            } catch (ShuttingDownException stopping) {
                return; // stays RUNNING: the next start runs it again, counted as interrupted
            } catch (FunctionNotFoundException gone) {
                end(e, null, null, "platform: " + gone.getMessage(), AsyncEventListener.DeadReason.FUNCTION_DELETED);
                return;
            } catch (PayloadTooLargeException tooLarge) {
                end(e, null, null, "platform: " + tooLarge.getMessage(),
                        AsyncEventListener.DeadReason.PAYLOAD_TOO_LARGE);
                return;
            } catch (GrandaException platform) {
                end(e, null, null, "platform: " + platform.code() + ": " + platform.getMessage(), null);
                return;
            }
            AsyncEvent.Result kept = keep(result);
            boolean ok = result.outcome() == Outcome.SUCCESS && kept.httpStatus() < 500;
            end(e, result.invocationId(), kept, ok ? null : failureOf(result, kept), null);
        } catch (RuntimeException unexpected) {
            LOG.atError().setCause(unexpected).addKeyValue("event", e.id()).log("event attempt failed unexpectedly");
            try {
                end(e, null, null, "platform: " + unexpected, null);
            } catch (RuntimeException storeDown) {
                LOG.atError().setCause(storeDown).addKeyValue("event", e.id())
                        .log("could not record the end of an attempt; it runs again after a restart");
            }
        } finally {
            attemptEnded(e.functionId());
        }
    }

    /**
     * Records the end of an attempt: succeeded when {@code error} is null; otherwise failed with a retry due, or dead
     * when the policy allows no more attempts, the event would be too old by the next one, or it can never run
     * ({@code hopeless} is why; null when another attempt could succeed).
     */
    private void end(AsyncEvent e, String invocationId, AsyncEvent.Result result, String error,
                     AsyncEventListener.DeadReason hopeless) {
        Instant now = clock.instant();
        AsyncPolicy policy = policyOf(e.functionId());
        EventStatus status;
        AsyncEventListener.DeadReason reason = null;
        Instant next = null;
        String why = error;
        if (error == null) {
            status = EventStatus.SUCCEEDED;
        } else {
            int failed = e.failedAttempts() + 1;
            next = now.plus(policy.backoffAfter(failed));
            if (hopeless != null) {
                status = EventStatus.DEAD;
                reason = hopeless;
            } else if (failed >= policy.maxAttempts()) {
                status = EventStatus.DEAD;
                reason = AsyncEventListener.DeadReason.ATTEMPTS_EXHAUSTED;
                why = "attempts used up (" + failed + " of " + policy.maxAttempts() + "): " + error;
            } else if (Duration.between(e.acceptedAt(), next).compareTo(policy.maxEventAge()) > 0) {
                status = EventStatus.DEAD;
                reason = AsyncEventListener.DeadReason.TOO_OLD;
                why = "expired: the next attempt would be after maxEventAgeSeconds ("
                        + policy.maxEventAge().toSeconds() + "): " + error;
            } else {
                status = EventStatus.FAILED;
            }
            if (status != EventStatus.FAILED) {
                next = null;
            }
        }
        Optional<AsyncEvent> ended = store.finish(e.id(), e.attempts(), status, next, invocationId, result, why, now);
        if (ended.isEmpty()) {
            LOG.atWarn().addKeyValue("event", e.id()).addKeyValue("attempt", e.attempts())
                    .log("attempt ended, but the event had moved on; its end is not recorded");
            return;
        }
        AsyncEvent done = ended.get();
        LOG.atInfo().addKeyValue("event", done.id()).addKeyValue("function", done.functionName())
                .addKeyValue("attempt", done.attempts()).addKeyValue("status", done.status().apiName())
                .addKeyValue("invocationId", invocationId).addKeyValue("error", why).log("event attempt ended");
        tell(l -> l.attemptEnded(done, done.status() == EventStatus.SUCCEEDED
                ? AsyncEventListener.AttemptOutcome.SUCCEEDED : AsyncEventListener.AttemptOutcome.FAILED));
        if (done.status() == EventStatus.DEAD) {
            died(done, reason);
        } else if (done.status().isFinal()) {
            finished(done);
        }
    }

    /** A dead event: told to the listeners, then its callback. */
    private void died(AsyncEvent dead, AsyncEventListener.DeadReason reason) {
        tell(l -> l.eventDead(dead, reason));
        finished(dead);
    }

    /**
     * The event's request plus {@code X-Granda-Event-Id} (the same on every attempt, so a function can make its effect
     * idempotent) and {@code X-Granda-Event-Attempt}.
     */
    private static InvocationRequest withEventHeaders(AsyncEvent e) {
        Map<String, List<String>> headers = new java.util.LinkedHashMap<>(e.request().headers());
        headers.put("X-Granda-Event-Id", List.of(e.id()));
        headers.put("X-Granda-Event-Attempt", List.of(Integer.toString(e.attempts())));
        InvocationRequest r = e.request();
        return new InvocationRequest(r.method(), r.path(), r.query(), headers, r.body());
    }

    private AsyncEvent.Result keep(InvocationResult r) {
        int status = r.httpStatus() != 0 ? r.httpStatus() : switch (r.outcome()) {
            case SUCCESS -> 200;
            case TIMEOUT -> 504;
            case FUNCTION_ERROR, OUT_OF_MEMORY -> 502;
        };
        byte[] body = r.output();
        boolean truncated = r.outputTruncated();
        if (body.length > options.maxResultBytes()) {
            body = Arrays.copyOf(body, options.maxResultBytes());
            truncated = true;
        }
        String contentType = r.headers().entrySet().stream()
                .filter(h -> h.getKey().equalsIgnoreCase("content-type") && !h.getValue().isEmpty())
                .map(h -> h.getValue().getFirst()).findFirst().orElse(null);
        return new AsyncEvent.Result(r.outcome(), status, contentType, body, truncated, r.logTail());
    }

    private static String failureOf(InvocationResult r, AsyncEvent.Result kept) {
        return switch (r.outcome()) {
            case SUCCESS -> "the function answered " + kept.httpStatus();
            case FUNCTION_ERROR -> r.exitCode() >= 0 ? "function_error: exit code " + r.exitCode()
                    : "function_error: the function failed" + (kept.httpStatus() > 0 ? " (" + kept.httpStatus() + ")" : "");
            case TIMEOUT -> "timeout: the function did not finish within its timeout";
            case OUT_OF_MEMORY -> "out_of_memory: the function exceeded its memory limit";
        };
    }

    private void attemptEnded(String functionId) {
        lock.lock();
        try {
            runningByFunction.computeIfPresent(functionId, (k, n) -> n == 1 ? null : n - 1);
            running--;
            woken = true;
            wake.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** A final event: its callback, if it has one, is delivered off the dispatcher. */
    private void finished(AsyncEvent e) {
        String url = e.callbackUrl() != null ? e.callbackUrl() : policyOf(e.functionId()).callbackUrl();
        if (url == null) {
            return;
        }
        try {
            attempts.execute(() -> deliverCallback(e, url));
        } catch (java.util.concurrent.RejectedExecutionException shuttingDown) {
            LOG.atWarn().addKeyValue("event", e.id()).log("callback not sent: shutting down");
        }
    }

    private void deliverCallback(AsyncEvent e, String url) {
        byte[] body = callbackBody.apply(e);
        String outcome = null;
        boolean delivered = false;
        long waitMillis = 1000;
        for (int attempt = 1; attempt <= options.callbackAttempts(); attempt++) {
            try {
                HttpResponse<Void> r = callbacks.send(HttpRequest.newBuilder(URI.create(url))
                        .timeout(options.callbackTimeout())
                        .header("Content-Type", "application/json")
                        .header("X-Granda-Event", e.id())
                        .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                        HttpResponse.BodyHandlers.discarding());
                delivered = r.statusCode() >= 200 && r.statusCode() < 300;
                outcome = (r.statusCode() < 300 ? "delivered " : "refused ") + r.statusCode();
                if (r.statusCode() < 500) {
                    break; // delivered, or refused in a way a retry will not change
                }
            } catch (java.io.IOException ex) {
                outcome = "failed: " + ex.getClass().getSimpleName()
                        + (ex.getMessage() == null ? "" : ": " + ex.getMessage());
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                outcome = "failed: interrupted";
                break;
            } catch (IllegalArgumentException ex) {
                outcome = "failed: " + ex.getMessage();
                break;
            }
            if (attempt < options.callbackAttempts()) {
                try {
                    Thread.sleep(waitMillis);
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                    break;
                }
                waitMillis *= 2;
            }
        }
        LOG.atInfo().addKeyValue("event", e.id()).addKeyValue("url", url).addKeyValue("callback", outcome)
                .log("event callback");
        String recorded = outcome;
        boolean ok = delivered;
        tell(l -> l.callbackEnded(e, ok, recorded));
        try {
            store.callbackDone(e.id(), outcome);
        } catch (RuntimeException ex) {
            LOG.atWarn().setCause(ex).addKeyValue("event", e.id()).log("could not record the callback's outcome");
        }
    }

    // ----------------------------------------------------------------------------------------------- schedules

    /** Fires the schedules that are due. @return the next firing of any schedule, or null when none has one */
    private Instant fireSchedules(Instant now) {
        Set<String> changed;
        lock.lock();
        try {
            changed = new HashSet<>(scheduleChanged);
            scheduleChanged.clear();
        } finally {
            lock.unlock();
        }
        changed.forEach(nextFiring::remove);
        // A schedule set (or changed) now starts from now: nothing of it was missed.
        changed.forEach(catchUp::remove);
        nextFiring.keySet().removeIf(id -> policyOf(id).schedule() == null);
        Instant earliest = null;
        for (Map.Entry<String, AsyncPolicy> p : policies.entrySet()) {
            Optional<CronSchedule> cron = p.getValue().cron();
            if (cron.isEmpty()) {
                continue;
            }
            String functionId = p.getKey();
            Instant next = nextFiring.get(functionId);
            if (next == null) {
                if (catchUp.remove(functionId)) {
                    Optional<Instant> missed = latestMissedFiring(cron.get(), p.getValue(), now);
                    if (missed.isPresent() && !fire(functionId, p.getValue(), missed.get())) {
                        continue;
                    }
                }
                Optional<Instant> first = cron.get().nextAfter(now);
                if (first.isEmpty()) {
                    continue;
                }
                next = first.get();
            }
            while (next != null && !next.isAfter(now)) {
                if (!fire(functionId, p.getValue(), next)) {
                    next = null;
                    break;
                }
                next = cron.get().nextAfter(next).orElse(null);
            }
            if (next == null) {
                nextFiring.remove(functionId);
            } else {
                nextFiring.put(functionId, next);
                earliest = earliest(earliest, next);
            }
        }
        return earliest;
    }

    /**
     * The latest firing at or before {@code now} that the platform may have missed while it was down, if it is
     * recent enough to run: within the function's {@code maxEventAge} (an older one would be stale work) and within
     * the idempotency window, whose key {@code schedule:<second>} makes it run at most once — a firing the previous
     * process already made is recognised as a duplicate and not run again. Earlier missed firings are skipped: a
     * schedule catches up once, not once per missed firing.
     */
    private Optional<Instant> latestMissedFiring(CronSchedule cron, AsyncPolicy policy, Instant now) {
        Duration window = policy.maxEventAge().compareTo(options.idempotencyWindow()) < 0 ? policy.maxEventAge()
                : options.idempotencyWindow();
        if (!window.isPositive()) {
            return Optional.empty();
        }
        Instant latest = null;
        Optional<Instant> t = cron.nextAfter(now.minus(window).minusNanos(1));
        for (int steps = 0; t.isPresent() && !t.get().isAfter(now) && steps < MAX_CATCH_UP_STEPS; steps++) {
            latest = t.get();
            t = cron.nextAfter(latest);
        }
        return Optional.ofNullable(latest);
    }

    /** @return false when the function is gone (its policy is forgotten then) */
    private boolean fire(String functionId, AsyncPolicy policy, Instant at) {
        String name = names.get(functionId);
        Optional<DeployedFunction> f = name == null ? Optional.empty()
                : granda.function(name).filter(found -> found.id().equals(functionId));
        if (f.isEmpty()) {
            LOG.atInfo().addKeyValue("functionId", functionId).log("scheduled function is gone; schedule dropped");
            policies.remove(functionId);
            store.removePolicy(functionId);
            return false;
        }
        String body = "{\"source\":\"schedule\",\"function\":\"" + f.get().name() + "\",\"schedule\":\""
                + policy.schedule().replace("\\", "\\\\").replace("\"", "\\\"") + "\",\"scheduledTime\":\"" + at + "\"}";
        InvocationRequest request = new InvocationRequest("POST", "/", "",
                Map.of("Content-Type", List.of("application/json"), "X-Granda-Scheduled-Time", List.of(at.toString())),
                body.getBytes(StandardCharsets.UTF_8));
        try {
            // The firing's time is its idempotency key: a restart that fires the same moment again stores nothing.
            Accepted a = store.accept(new NewEvent(Ids.newTimeOrderedId(clock.instant()), f.get().tenant(), functionId,
                    f.get().name(), "schedule", request, "schedule:" + at.getEpochSecond(), null, clock.instant()),
                    options.idempotencyWindow());
            LOG.atInfo().addKeyValue("function", f.get().name()).addKeyValue("scheduledTime", at)
                    .addKeyValue("event", a.event().id()).addKeyValue("duplicate", a.duplicate()).log("schedule fired");
            if (!a.duplicate()) {
                tell(l -> l.scheduleFired(a.event()));
            }
        } catch (RuntimeException e) {
            LOG.atError().setCause(e).addKeyValue("function", f.get().name()).addKeyValue("scheduledTime", at)
                    .log("could not store a scheduled event");
        }
        return true;
    }

    private void purgeIfDue(Instant now) {
        if (now.isBefore(nextPurge)) {
            return;
        }
        nextPurge = now.plus(PURGE_EVERY);
        long n = store.purgeFinishedBefore(now.minus(options.finishedRetention()));
        if (n > 0) {
            LOG.atInfo().addKeyValue("events", n).log("finished events past their retention purged");
        }
    }

    // ----------------------------------------------------------------------------------------------- closing

    /**
     * Stops dispatching and accepting, and waits for running attempts up to the platform's shutdown grace. Attempts
     * still running after it stay running in the store and run again at the next start.
     */
    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            wake.signalAll();
        } finally {
            lock.unlock();
        }
        try {
            dispatcher.join(TimeUnit.SECONDS.toMillis(5));
            attempts.shutdown();
            if (!attempts.awaitTermination(granda.options().shutdownGrace().toMillis(), TimeUnit.MILLISECONDS)) {
                LOG.atWarn().addKeyValue("running", running())
                        .log("event attempts still running at shutdown; they run again at the next start");
                attempts.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Builds {@link GrandaEvents}. */
    public static final class Builder {
        private final Granda granda;
        private final EventStore store;
        private AsyncOptions options = AsyncOptions.DEFAULTS;
        private Function<AsyncEvent, byte[]> callbackBody = GrandaEvents::defaultCallbackBody;
        private final List<AsyncEventListener> listeners = new java.util.ArrayList<>();

        private Builder(Granda granda, EventStore store) {
            this.granda = Objects.requireNonNull(granda, "granda");
            this.store = Objects.requireNonNull(store, "store");
        }

        /** @return this, with other options */
        public Builder options(AsyncOptions options) {
            this.options = Objects.requireNonNull(options, "options");
            return this;
        }

        /** @return this, with another renderer of the JSON a callback POSTs (the HTTP layer gives its own) */
        public Builder callbackBody(Function<AsyncEvent, byte[]> render) {
            this.callbackBody = Objects.requireNonNull(render, "render");
            return this;
        }

        /**
         * Adds a listener (e.g. metrics) told of ended attempts, dead events, callbacks and schedule firings; may be
         * repeated. Listeners added here also hear of the attempts {@link #start()} finds cut short.
         *
         * @return this
         */
        public Builder listener(AsyncEventListener listener) {
            listeners.add(Objects.requireNonNull(listener, "listener"));
            return this;
        }

        /**
         * Requeues what was running when the platform last stopped and starts the dispatcher.
         *
         * @return the running event engine
         */
        public GrandaEvents start() {
            GrandaEvents events = new GrandaEvents(this);
            events.begin();
            return events;
        }
    }

    /** A small JSON of the event's id, function, status and result status, for embedders with no renderer. */
    static byte[] defaultCallbackBody(AsyncEvent e) {
        StringBuilder s = new StringBuilder(160).append("{\"invocationId\":\"").append(e.id())
                .append("\",\"function\":\"").append(e.functionName()).append("\",\"status\":\"")
                .append(e.status().apiName()).append("\",\"attempts\":").append(e.attempts());
        e.lastResult().ifPresent(r -> s.append(",\"resultStatus\":").append(r.httpStatus()));
        return s.append('}').toString().getBytes(StandardCharsets.UTF_8);
    }
}
