package io.granda.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.granda.core.DeployedFunction;
import io.granda.core.FunctionNotFoundException;
import io.granda.core.FunctionUsage;
import io.granda.core.Granda;
import io.granda.core.Granularity;
import io.granda.core.Prices;
import io.granda.core.UsageSummary;
import io.granda.http.internal.ApiException;
import io.granda.http.internal.Authenticator;
import io.granda.http.internal.Caller;
import io.granda.http.internal.Json;
import io.granda.http.internal.RecordsCsv;
import io.granda.http.internal.Responses;
import io.granda.http.internal.UsageJson;
import io.granda.http.internal.UsageQuery;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Usage across functions, for bills: {@code GET /usage} (totals, per function and optionally as a series, with
 * their cost) and {@code GET /usage/records.csv} (the raw invocation records of a window, streamed as CSV). Mount it
 * at {@code /usage}. See docs/http-api.md. Thread-safe.
 *
 * <p>Both need an API key: a tenant key is answered its own tenant's usage only, an admin key every tenant's, or
 * one tenant's with {@code ?tenant=}.
 */
public final class UsageApiService implements HttpService {

    private static final Logger LOG = LoggerFactory.getLogger(UsageApiService.class);
    private static final DateTimeFormatter FILE_TIME = DateTimeFormatter.ofPattern("uuuuMMdd'T'HHmmss'Z'")
            .withZone(ZoneOffset.UTC);

    private final Granda granda;
    private final Authenticator auth;

    /**
     * Usage for callers with an API key.
     *
     * @param granda the platform whose usage is answered
     */
    public UsageApiService(Granda granda) {
        this(granda, GrandaHttpConfig.DEFAULTS);
    }

    /**
     * @param granda the platform whose usage is answered
     * @param config HTTP settings (whether API keys are required)
     */
    public UsageApiService(Granda granda, GrandaHttpConfig config) {
        this.granda = Objects.requireNonNull(granda);
        this.auth = Authenticator.of(granda, config);
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/", auth.authenticated("usage", this::usage))
                .get("/records.csv", this::records)
                .any("/", FunctionsApiService.methodNotAllowed("GET"))
                .any("/records.csv", FunctionsApiService.methodNotAllowed("GET"));
    }

    /**
     * Totals over every function of a tenant (every tenant when none is named), per function (deleted ones too, so
     * that a bill is complete) and, with a granularity, as a series. Answered from the per-minute aggregates, so the
     * window is widened to whole minutes, or to whole buckets when a granularity is given.
     */
    private void usage(Caller caller, ServerRequest req, ServerResponse res) {
        Optional<Granularity> granularity = UsageQuery.granularity(req);
        String tenant = caller.scope(UsageQuery.tenant(req));
        UsageQuery.Window asked = UsageQuery.window(req, granda.clock().instant(),
                granularity.map(UsageQuery::defaultSeriesSince).orElse(until -> Instant.EPOCH));
        granularity.ifPresent(g -> UsageQuery.checkBuckets(asked, g));
        UsageQuery.Window window = asked.widenedTo(granularity.orElse(Granularity.MINUTE));
        Prices prices = granda.prices();

        List<FunctionUsage> perFunction = granda.usageByFunction(tenant, window.since(), window.until());
        Set<String> existing = new HashSet<>();
        for (DeployedFunction f : granda.functions(tenant)) {
            existing.add(f.id());
        }
        ObjectNode body = Json.object();
        if (tenant == null) {
            body.putNull("tenant");
        } else {
            body.put("tenant", tenant);
        }
        body.put("since", window.since().toString());
        body.put("until", window.until().toString());
        body.set("prices", UsageJson.prices(prices));
        UsageSummary total = UsageSummary.EMPTY;
        for (FunctionUsage fu : perFunction) {
            total = total.plus(fu.usage());
        }
        UsageJson.putTotals(body, total, prices);
        ArrayNode functions = body.putArray("functions");
        for (FunctionUsage fu : perFunction) {
            ObjectNode n = functions.addObject();
            n.put("name", fu.functionName());
            n.put("id", fu.functionId());
            n.put("tenant", fu.tenant());
            n.put("deleted", !existing.contains(fu.functionId()));
            UsageJson.putTotals(n, fu.usage(), prices);
        }
        if (granularity.isPresent()) {
            Granularity g = granularity.get();
            UsageJson.putSeries(body, granda.usageSeries(tenant, null, window.since(), window.until(), g), g, window,
                    prices);
        }
        Responses.json(res, 200, body);
    }

    /**
     * The raw records of a window as CSV, oldest first. Everything that can be refused is refused before the first
     * byte goes out; a failure after that breaks the connection, so that a cut export never looks complete.
     */
    private void records(ServerRequest req, ServerResponse res) {
        RecordsCsv csv = null;
        try {
            String tenant = auth.caller(req).scope(UsageQuery.tenant(req));
            UsageQuery.Window w = UsageQuery.window(req, granda.clock().instant(), until -> until.minus(Duration.ofDays(1)));
            if (w.length().compareTo(UsageQuery.MAX_EXPORT_WINDOW) > 0) {
                throw ApiException.badRequest("invalid_request", "since", "an export covers at most "
                        + UsageQuery.MAX_EXPORT_WINDOW.toDays() + " days; split the window (" + w.since() + " to "
                        + w.until() + ")");
            }
            String function = req.query().first("function").asOptional().orElse(null);
            if (function != null && granda.function(tenant, function).isEmpty()) {
                throw new FunctionNotFoundException("no function named '" + function + "'");
            }
            csv = new RecordsCsv(res, "granda-usage-" + FILE_TIME.format(w.since()) + "-"
                    + FILE_TIME.format(w.until()) + ".csv");
            granda.exportRecords(tenant, function, w.since(), w.until(), csv);
            csv.finish();
        } catch (RuntimeException e) {
            if (csv == null || !csv.started()) {
                Responses.error(res, e, "export usage records");
                return;
            }
            // Part of the CSV is out: no error can be sent any more. Rethrown, the failure makes the server close
            // the connection without ending the body, so the client sees a broken transfer, not a short file.
            LOG.atWarn().setCause(e).addKeyValue("rows", csv.rows()).log("usage export failed part-way");
            throw e;
        }
    }
}
