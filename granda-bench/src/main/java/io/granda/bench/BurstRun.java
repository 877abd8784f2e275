package io.granda.bench;

import io.granda.core.DeployedFunction;
import io.granda.core.InstanceInfo;
import io.granda.core.ScalingPolicy;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A burst of simultaneous first calls to a cold function: the function runs revision 1 on one warm instance, is
 * updated to revision 2, and at once {@code callers} callers (connected beforehand, released together) call it.
 * Every answer must be the echo of its payload from an instance of revision 2 ({@code X-Echo-Revision}, which the
 * instance takes from its own environment, and Granda's {@code X-Granda-Revision}); meanwhile a sampler watches the
 * pool grow to the function's maximum.
 *
 * @param callers            simultaneous calls
 * @param maxInstances       the function's maximum
 * @param answered           calls answered 200
 * @param correct            answers with the right body, from revision 2, as Granda says
 * @param stale              answers from an instance of another revision
 * @param allAnsweredMillis  from the release of the callers to the last answer
 * @param instancesReached   the most instances of revision 2 seen at once
 * @param limitReachedMillis when that many were first seen, from the release
 * @param instancesReady     the most of them seen ready (idle or serving) at once, watching until every instance
 *                           started for the burst is ready
 * @param allReadyMillis     when that many were first seen ready, from the release
 * @param distinctInstances  instances that answered
 * @param latency            each call's latency, from the release
 * @param firstProblem       the first wrong answer or failure, null when none
 */
record BurstRun(int callers, int maxInstances, int answered, int correct, int stale, double allAnsweredMillis,
                int instancesReached, double limitReachedMillis, int instancesReady, double allReadyMillis,
                int distinctInstances, Samples latency,
                String firstProblem) {

    /** @return whether every call was answered correctly, none stale, and the pool grew to its maximum */
    boolean passed() {
        return answered == callers && correct == callers && stale == 0 && instancesReached == maxInstances;
    }

    private record Answer(int status, boolean bodyOk, String echoRevision, String grandaRevision, String instance,
                          long endNanos, String failure) {
    }

    static BurstRun run(BenchServer server, String name, int callers, int maxInstances) throws InterruptedException {
        DeployedFunction v1 = server.deployHot(name, ScalingPolicy.DEFAULT.withMaxInstances(maxInstances));
        try (MiniHttpClient first = server.viaUrl(v1)) {
            if (first.call() != 200) {
                throw new IllegalStateException("burst: the first call of revision 1 answered " + first.status());
            }
        } catch (IOException e) {
            throw new IllegalStateException("burst: the first call of revision 1 failed", e);
        }
        server.awaitReady(name, 1);

        List<MiniHttpClient> clients = new ArrayList<>(callers);
        for (int i = 0; i < callers; i++) {
            try {
                clients.add(server.viaUrl(v1).connect());
            } catch (IOException e) {
                throw new IllegalStateException("burst: cannot connect caller " + i, e);
            }
        }
        CountDownLatch go = new CountDownLatch(1);
        Answer[] answers = new Answer[callers];
        List<Thread> threads = new ArrayList<>(callers);
        for (int i = 0; i < callers; i++) {
            int me = i;
            MiniHttpClient client = clients.get(i);
            threads.add(Thread.ofPlatform().name("bench-burst-" + i).start(() -> {
                try {
                    go.await();
                    int status = client.call();
                    long end = System.nanoTime();
                    answers[me] = new Answer(status, client.bodyEquals(BenchServer.PAYLOAD),
                            client.header("X-Echo-Revision"), client.header("X-Granda-Revision"),
                            client.header("X-Echo-Instance"), end, null);
                } catch (IOException | InterruptedException e) {
                    answers[me] = new Answer(0, false, null, null, null, System.nanoTime(), e.toString());
                } finally {
                    client.close();
                }
            }));
        }

        Map<String, String> env = new HashMap<>(v1.spec().env());
        env.put("BENCH_BURST", "2");
        DeployedFunction v2 = server.granda().update(v1.spec().toBuilder().env(env).build());
        String revision = Long.toString(v2.revision());
        var sampler = new Object() {
            volatile boolean callsDone;
            int most;
            long mostAtNanos;
            int mostReady;
            long mostReadyAtNanos;
        };
        // Watches the pool until the calls are answered and every instance started for them is ready (or 30 s).
        Thread watch = Thread.ofPlatform().name("bench-burst-sampler").start(() -> {
            long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!(sampler.callsDone && sampler.mostReady >= sampler.most) && System.nanoTime() < giveUp) {
                int n = 0;
                int ready = 0;
                for (InstanceInfo i : server.instances(name)) {
                    if (i.revision() == v2.revision()) {
                        n++;
                        if (i.state().equals("READY") || i.state().equals("BUSY")) {
                            ready++;
                        }
                    }
                }
                long now = System.nanoTime();
                if (n > sampler.most) {
                    sampler.most = n;
                    sampler.mostAtNanos = now;
                }
                if (ready > sampler.mostReady) {
                    sampler.mostReady = ready;
                    sampler.mostReadyAtNanos = now;
                }
                try {
                    TimeUnit.MILLISECONDS.sleep(1);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        long t0 = System.nanoTime();
        go.countDown();
        for (Thread t : threads) {
            t.join();
        }
        sampler.callsDone = true;
        watch.join();

        int answered = 0;
        int correct = 0;
        int stale = 0;
        long last = t0;
        String problem = null;
        Set<String> instances = new HashSet<>();
        Samples latency = new Samples(callers);
        for (Answer a : answers) {
            last = Math.max(last, a.endNanos());
            latency.add(a.endNanos() - t0);
            if (a.failure() != null) {
                problem = problem == null ? a.failure() : problem;
                continue;
            }
            if (a.status() == 200) {
                answered++;
            }
            if (a.echoRevision() != null && !a.echoRevision().equals(revision)) {
                stale++;
            }
            boolean ok = a.status() == 200 && a.bodyOk() && revision.equals(a.echoRevision())
                    && revision.equals(a.grandaRevision());
            if (ok) {
                correct++;
                instances.add(a.instance());
            } else if (problem == null) {
                problem = "status " + a.status() + ", body ok " + a.bodyOk() + ", X-Echo-Revision "
                        + a.echoRevision() + ", X-Granda-Revision " + a.grandaRevision() + " (expected " + revision + ")";
            }
        }
        return new BurstRun(callers, maxInstances, answered, correct, stale, (last - t0) / 1e6, sampler.most,
                (sampler.mostAtNanos - t0) / 1e6, sampler.mostReady, (sampler.mostReadyAtNanos - t0) / 1e6,
                instances.size(), latency, problem);
    }
}
