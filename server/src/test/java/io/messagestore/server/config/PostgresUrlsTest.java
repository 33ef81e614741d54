package io.messagestore.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class PostgresUrlsTest {

  @Test
  void credentialsBeforeTheHostAreTakenOutOfTheUrlAndPercentDecoded() {
    PostgresUrls.Parsed p = PostgresUrls.parse("postgresql://app%2Buser:s%40cr%3Aet%2Fx+y%C3%A9@db.example:6543/prod?sslmode=require");

    assertThat(p.jdbcUrl()).isEqualTo("jdbc:postgresql://db.example:6543/prod?sslmode=require");
    assertThat(p.user()).isEqualTo("app+user");
    assertThat(p.password()).isEqualTo("s@cr:et/x+yé");
  }

  @Test
  void anUnencodedAtInThePasswordStaysInThePassword() {
    PostgresUrls.Parsed p = PostgresUrls.parse("postgres://app:p@ss@db/x");

    assertThat(p.jdbcUrl()).isEqualTo("jdbc:postgresql://db/x");
    assertThat(p.password()).isEqualTo("p@ss");
  }

  @Test
  void aUserWithoutPasswordLeavesThePasswordUnset() {
    PostgresUrls.Parsed p = PostgresUrls.parse("postgresql://app@db:5432/x");

    assertThat(p.user()).isEqualTo("app");
    assertThat(p.password()).isNull();
    assertThat(PostgresUrls.parse("postgresql://:pw@db/x").user()).isNull();
  }

  @ParameterizedTest
  @CsvSource({
      "postgresql://u:p@[::1]:5432/db, jdbc:postgresql://[::1]:5432/db",
      "postgresql://[::1]/db, jdbc:postgresql://[::1]/db",
      "r2dbc:postgresql://u@[fe80::1%25eth0]:6000/db, jdbc:postgresql://[fe80::1%25eth0]:6000/db",
      "'postgresql://u:p@h1:5432,h2:5433/db?targetServerType=primary&sslmode=verify-full',"
          + " 'jdbc:postgresql://h1:5432,h2:5433/db?targetServerType=primary&sslmode=verify-full'",
      "jdbc:postgresql://db/x?user=app&password=pw, jdbc:postgresql://db/x?user=app&password=pw",
      "postgresql://db, jdbc:postgresql://db",
  })
  void hostsPortsAndQueryParametersAreKeptAsWritten(String url, String jdbc) {
    assertThat(PostgresUrls.parse(url).jdbcUrl()).isEqualTo(jdbc);
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "mysql://app:hunter2@db/x",
      "postgresql://app:hunter2@/x",
      "postgresql://app:hunter2@db:99999/x",
      "postgresql://app:hunter2@db:port/x",
      "postgresql://app:hunter2@[::1/x",
      "postgresql://app:hunter2@::1/x",
      "postgresql://app:hunter2@[::1]5432/x",
      "postgresql://app:hun%zzter2@db/x",
      "postgresql://app:hun/hunter2@db/x",
      "postgres://app:hunter2@db,:5432/x?password=hunter2",
  })
  void aBadUrlIsNamedWithoutItsPassword(String url) {
    assertThatThrownBy(() -> PostgresUrls.parse(url))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("MESSAGESTORE_POSTGRES_URL=")
        .hasMessageContaining("app:***@")
        .hasMessageNotContaining("hunter2");
  }

  @ParameterizedTest
  @CsvSource({
      "postgresql://app:hunter2@db/x, postgresql://app:***@db/x",
      "postgresql://app:p@hunter2@db/x, postgresql://app:***@db/x",
      "postgresql://app@db:5432/x, postgresql://app@db:5432/x",
      "jdbc:postgresql://db/x?user=app&password=hunter2&ssl=true, jdbc:postgresql://db/x?user=app&password=***&ssl=true",
      "jdbc:postgresql://db/x?PASSWORD=hunter2, jdbc:postgresql://db/x?PASSWORD=***",
  })
  void redactingHidesThePasswordWhereverItIsWritten(String url, String shown) {
    assertThat(PostgresUrls.redact(url)).isEqualTo(shown);
  }

  @Test
  void theParsedFormDoesNotShowThePassword() {
    assertThat(PostgresUrls.parse("postgresql://app:hunter2@db/x?password=hunter2").toString())
        .contains("app").doesNotContain("hunter2");
  }
}
