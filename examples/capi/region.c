/* Measures two regions of a program with wattprint's C API and prints their
 * energy and CO2e; a row for the whole run goes to ./emissions.csv.
 *   region [COUNTRY]      e.g. region FRA (default: where this machine is) */
#include <stdio.h>

#include <wattprint/wattprint.h>

static double work(long n) {
  double s = 0;
  for (long i = 1; i <= n; ++i) s += 1.0 / ((double)i * (double)i);
  return s;
}

static void report(wp_tracker *t, int slice, const char *what) {
  double j = 0, g = 0;
  if (wp_tracker_energy_j(t, slice, WP_KIND_TOTAL, WP_SCOPE_MACHINE, &j) != WP_OK ||
      wp_tracker_co2e_g(t, slice, WP_BASIS_CHOSEN, WP_SCOPE_MACHINE, &g) != WP_OK) {
    printf("%-8s not measured: %s\n", what, wp_tracker_errmsg(t));
    return;
  }
  printf("%-8s %10.3f J %10.6f g CO2e\n", what, j, g);
}

int main(int argc, char **argv) {
  wp_options *o = NULL;
  wp_tracker *t = NULL;
  wp_options_new(&o);
  if (argc > 1 && wp_options_set(o, "country", argv[1]) != WP_OK) {
    fprintf(stderr, "region: %s\n", wp_options_errmsg(o));
    return 2;
  }
  if (wp_tracker_new(o, &t) != WP_OK) {
    fprintf(stderr, "region: %s\n", wp_tracker_errmsg(t));
    wp_tracker_free(t);
    return 1;
  }
  wp_options_free(o);

  wp_tracker_start(t);
  wp_tracker_start_task(t, "short");
  printf("sum %.12f\n", work(20000000));
  wp_tracker_stop_task(t);
  wp_tracker_start_task(t, "long");
  printf("sum %.12f\n", work(80000000));
  wp_tracker_stop_task(t);
  wp_tracker_stop(t);

  report(t, 0, "short");
  report(t, 1, "long");
  report(t, WP_RUN, "run");
  const char *zone = "", *source = "";
  wp_tracker_provenance(t, WP_BASIS_CHOSEN, "zone", &zone);
  wp_tracker_provenance(t, WP_BASIS_CHOSEN, "source", &source);
  printf("intensity: zone %s, %s\n", zone, source);
  if (wp_tracker_write_csv(t, WP_RUN, NULL, NULL) != WP_OK) fprintf(stderr, "region: %s\n", wp_tracker_errmsg(t));
  wp_tracker_free(t);
  return 0;
}
