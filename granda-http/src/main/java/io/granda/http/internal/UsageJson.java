package io.granda.http.internal;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.granda.core.Granularity;
import io.granda.core.Prices;
import io.granda.core.UsageBucket;
import io.granda.core.UsageSummary;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The JSON shape of usage: totals with their cost, prices, series. Amounts of money are strings holding exact
 * decimals (JSON numbers are read as binary floating point by most clients, which would undo the decimal
 * arithmetic). Not API.
 */
public final class UsageJson {

    private UsageJson() {
    }

    /**
     * Adds usage totals and their cost to an object.
     *
     * @param n      where to put them
     * @param u      the totals
     * @param prices what they cost
     * @return {@code n}
     */
    public static ObjectNode putTotals(ObjectNode n, UsageSummary u, Prices prices) {
        n.put("calls", u.calls());
        n.put("errors", u.errors());
        n.put("timeouts", u.timeouts());
        n.put("outOfMemory", u.outOfMemory());
        n.put("coldStarts", u.coldStarts());
        n.put("computeMs", u.computeMillis());
        n.put("billedMs", u.billedMillis());
        n.put("gbSeconds", u.gbSeconds());
        n.put("cpuSeconds", u.cpuSeconds());
        n.set("cost", cost(prices.costOf(u)));
        return n;
    }

    /** @return {@code {"requests", "compute", "total", "currency"}}, amounts as decimal strings */
    public static ObjectNode cost(Prices.Cost c) {
        ObjectNode n = Json.object();
        n.put("requests", money(c.requests()));
        n.put("compute", money(c.compute()));
        n.put("total", money(c.total()));
        n.put("currency", c.currency());
        return n;
    }

    /** @return {@code {"perMillionRequests", "perGbSecond", "currency"}}, prices as decimal strings */
    public static ObjectNode prices(Prices p) {
        ObjectNode n = Json.object();
        n.put("perMillionRequests", p.perMillionRequests().toPlainString());
        n.put("perGbSecond", p.perGbSecond().toPlainString());
        n.put("currency", p.currency());
        return n;
    }

    /** @return an amount with exactly {@link Prices#SCALE} decimals, never in exponent notation */
    static String money(BigDecimal amount) {
        return amount.setScale(Prices.SCALE, java.math.RoundingMode.HALF_EVEN).toPlainString();
    }

    /**
     * Adds a series: {@code granularity}, {@code seriesSince}, {@code seriesUntil} and {@code series}, one entry per
     * bucket of the widened window, buckets without calls included (as zeros), oldest first.
     *
     * @param n       where to put it
     * @param buckets the buckets that had calls
     * @param g       their width
     * @param window  the window, already widened to whole buckets
     * @param prices  what calls cost
     */
    public static void putSeries(ObjectNode n, List<UsageBucket> buckets, Granularity g, UsageQuery.Window window,
                                 Prices prices) {
        n.put("granularity", g.apiName());
        n.put("seriesSince", window.since().toString());
        n.put("seriesUntil", window.until().toString());
        Map<Instant, UsageSummary> byStart = new HashMap<>();
        for (UsageBucket b : buckets) {
            byStart.merge(b.start(), b.usage(), UsageSummary::plus);
        }
        ArrayNode series = n.putArray("series");
        for (Instant t = window.since(); t.isBefore(window.until()); t = t.plus(g.width())) {
            ObjectNode bucket = series.addObject();
            bucket.put("start", t.toString());
            putTotals(bucket, byStart.getOrDefault(t, UsageSummary.EMPTY), prices);
        }
    }
}
