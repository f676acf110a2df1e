#pragma once
#include <time.h>
#include <cstdio>
#include <cstdlib>
struct PhaseRec { const char* name; timespec w, c; };
inline PhaseRec g_phases[64]; inline int g_nphases = 0;
inline void PhaseDump() {
  for (int i = 1; i < g_nphases; ++i) {
    auto& a = g_phases[i-1]; auto& b = g_phases[i];
    std::fprintf(stderr, "%-28s wall %7.3f ms  cpu %7.3f ms\n", b.name,
      (b.w.tv_sec-a.w.tv_sec)*1e3+(b.w.tv_nsec-a.w.tv_nsec)/1e6, (b.c.tv_sec-a.c.tv_sec)*1e3+(b.c.tv_nsec-a.c.tv_nsec)/1e6);
  }
}
inline void Phase(const char* name) {
  static bool on = std::getenv("WP_PHASES") != nullptr;
  if (!on || g_nphases >= 64) return;
  PhaseRec& r = g_phases[g_nphases++]; r.name = name;
  clock_gettime(CLOCK_MONOTONIC, &r.w); clock_gettime(CLOCK_THREAD_CPUTIME_ID, &r.c);
  if (g_nphases == 1) atexit(PhaseDump);
}
