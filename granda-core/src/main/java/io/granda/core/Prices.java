package io.granda.core;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Objects;

/**
 * What an operator charges: an immutable value. Costs are computed in decimal, never in floating point, so a bill
 * adds up to the last digit.
 *
 * @param perMillionRequests price of one million calls
 * @param perGbSecond        price of one GB-second (1024 MiB for one second of billed run time)
 * @param currency           the currency's code, e.g. {@code USD}; only a label
 */
public record Prices(BigDecimal perMillionRequests, BigDecimal perGbSecond, String currency) {

    /** The public list prices of the best-known serverless platform (x86, first tier), as a sensible default. */
    public static final Prices DEFAULTS = new Prices(new BigDecimal("0.20"), new BigDecimal("0.0000166667"), "USD");

    /** Decimal places a cost is given to. */
    public static final int SCALE = 10;

    private static final BigDecimal MILLION = BigDecimal.valueOf(1_000_000);
    private static final BigDecimal MB_MILLIS_PER_GB_SECOND = BigDecimal.valueOf(1024L * 1000L);

    public Prices {
        Objects.requireNonNull(perMillionRequests, "perMillionRequests");
        Objects.requireNonNull(perGbSecond, "perGbSecond");
        Objects.requireNonNull(currency, "currency");
        if (perMillionRequests.signum() < 0 || perGbSecond.signum() < 0) {
            throw new IllegalArgumentException("prices must not be negative");
        }
        if (currency.isBlank()) {
            throw new IllegalArgumentException("currency must not be blank");
        }
    }

    /**
     * @param usage totals
     * @return what they cost at these prices
     */
    public Cost costOf(UsageSummary usage) {
        BigDecimal requests = perMillionRequests.multiply(BigDecimal.valueOf(usage.calls()))
                .divide(MILLION, SCALE, RoundingMode.HALF_EVEN);
        // mbMillis is exact; dividing once at the end keeps the GB-second cost exact to SCALE places.
        BigDecimal compute = perGbSecond.multiply(BigDecimal.valueOf(usage.mbMillis()))
                .divide(MB_MILLIS_PER_GB_SECOND, SCALE, RoundingMode.HALF_EVEN);
        return new Cost(requests, compute, requests.add(compute), currency);
    }

    /**
     * A cost, split as it is priced: an immutable value.
     *
     * @param requests the per-call part
     * @param compute  the GB-second part
     * @param total    both
     * @param currency the prices' currency
     */
    public record Cost(BigDecimal requests, BigDecimal compute, BigDecimal total, String currency) {
    }
}
