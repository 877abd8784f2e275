package io.granda.server;

import io.granda.core.MeteringOptions;
import io.granda.core.Prices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The prices and retention options of the standalone server. */
class ServerConfigMeteringTest {

    @Test
    void defaultsAreTheCoreDefaults() {
        ServerConfig c = ServerConfig.from(new String[0], Map.of());
        assertEquals(MeteringOptions.DEFAULTS, c.metering());
        assertEquals(new BigDecimal("0.20"), c.metering().prices().perMillionRequests());
        assertEquals(new BigDecimal("0.0000166667"), c.metering().prices().perGbSecond());
    }

    @Test
    void flagsAndVariablesSetPricesAndRetention() {
        ServerConfig c = ServerConfig.from(new String[] {"--price-per-million-requests", "0.25",
                "--price-per-gb-second=0.00001", "--record-retention-days", "30"},
                Map.of("GRANDA_CURRENCY", "EUR", "GRANDA_AGGREGATE_RETENTION_DAYS", "30",
                        "GRANDA_RECORD_RETENTION_DAYS", "7"));
        assertEquals(new Prices(new BigDecimal("0.25"), new BigDecimal("0.00001"), "EUR"), c.metering().prices());
        assertEquals(Duration.ofDays(30), c.metering().recordRetention(), "the flag wins over the variable");
        assertEquals(Duration.ofDays(30), c.metering().aggregateRetention());
        assertEquals(MeteringOptions.DEFAULTS.purgeInterval(), c.metering().purgeInterval());
        assertEquals(BigDecimal.ZERO, ServerConfig.from(new String[] {"--price-per-gb-second", "0"}, Map.of())
                .metering().prices().perGbSecond().stripTrailingZeros());
    }

    @ParameterizedTest(name = "--{0} {1}")
    @CsvSource(delimiter = '|', textBlock = """
            price-per-million-requests | -1         | price-per-million-requests
            price-per-million-requests | 1e-5       | price-per-million-requests
            price-per-million-requests | abc        | price-per-million-requests
            price-per-gb-second        | ''         | price-per-gb-second
            price-per-gb-second        | 0.1.2      | price-per-gb-second
            currency                   | usd        | currency
            currency                   | DOLLARS    | currency
            record-retention-days      | 0          | record-retention-days
            record-retention-days      | 36501      | record-retention-days
            aggregate-retention-days   | 30         | aggregate-retention-days
            """)
    void badValuesAreRefusedNamingTheOption(String option, String value, String named) {
        ServerConfig.InvalidConfigException e = assertThrows(ServerConfig.InvalidConfigException.class,
                () -> ServerConfig.from(new String[] {"--" + option, value}, Map.of()));
        assertTrue(e.getMessage().contains(named), e.getMessage());
    }

    @Test
    void helpListsTheNewOptions() {
        String help = ServerConfig.help();
        for (String s : new String[] {"--price-per-million-requests", "GRANDA_PRICE_PER_GB_SECOND", "--currency",
                "--record-retention-days", "GRANDA_AGGREGATE_RETENTION_DAYS"}) {
            assertTrue(help.contains(s), s);
        }
    }
}
