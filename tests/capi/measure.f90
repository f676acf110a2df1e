! The Fortran counterpart of measure.c, through the installed `wattprint`
! module: measures a fake powercap tree whose counters it moves by known
! amounts around a task, and checks the figures exactly.
!   measure_f TREE OUT      (consumer_test.py writes TREE and checks OUT)
program measure_f
  use, intrinsic :: iso_c_binding, only: c_double
  use wattprint
  implicit none
  character(len=4096) :: tree, out
  type(wp_options) :: o
  type(wp_tracker) :: t
  integer :: failures = 0, n
  real(c_double) :: j, g, co2e
  character(len=:), allocatable :: zone, basis, resolution

  call get_command_argument(1, tree)
  call get_command_argument(2, out)
  call ok(wp_options_new(o), "options_new")
  call check(wp_options_set(o, "contry", "FRA") == WP_ERR_INVALID_ARGUMENT, "misspelt key accepted")
  call check(index(wp_options_errmsg(o), "did you mean 'country'") > 0, "no did-you-mean")
  call ok(wp_options_set(o, "sysfs_root", trim(tree) // "/sys"), "sysfs_root")
  call ok(wp_options_set(o, "country", "FRA"), "country")
  call ok(wp_options_set(o, "pue", "1.5"), "pue")
  call ok(wp_options_set(o, "interval", "30"), "interval_s")
  call ok(wp_options_set(o, "cloud_metadata", "false"), "cloud_metadata")
  call ok(wp_options_set(o, "output_dir", trim(out)), "output_dir")
  call ok(wp_options_set(o, "project_name", "capi-fortran"), "project_name")
  if (wp_new(t, o) /= WP_OK) then
    print *, "FAIL: wp_new: ", wp_errmsg(t)
    stop 1
  end if
  call wp_options_free(o)

  call check(wp_stop(t) == WP_ERR_STATE, "stop before start")
  call ok(wp_start(t), "start")
  call add_uj("sys/class/powercap/intel-rapl:0/energy_uj", 5000000_8)
  call add_uj("sys/class/powercap/intel-rapl:0:0/energy_uj", 1000000_8)
  call ok(wp_start_task(t, "solve"), "start_task")
  call add_uj("sys/class/powercap/intel-rapl:0/energy_uj", 2000000_8)
  call add_uj("sys/class/powercap/intel-rapl:0:0/energy_uj", 500000_8)
  call ok(wp_stop_task(t), "stop_task")
  call add_uj("sys/class/powercap/intel-rapl:0/energy_uj", 3000000_8)
  call ok(wp_stop(t), "stop")

  call ok(wp_energy(t, WP_RUN, WP_KIND_CPU, WP_SCOPE_MACHINE, j), "cpu")
  call check(near(j, 10.0_c_double), "run cpu")
  call ok(wp_energy(t, WP_RUN, WP_KIND_DRAM, WP_SCOPE_MACHINE, j), "dram")
  call check(near(j, 1.5_c_double), "run dram")
  call ok(wp_energy(t, WP_RUN, WP_KIND_TOTAL, WP_SCOPE_MACHINE, j), "total")
  call check(near(j, 11.5_c_double), "run total")
  call ok(wp_energy(t, 0, WP_KIND_CPU, WP_SCOPE_MACHINE, j), "task cpu")
  call check(near(j, 2.0_c_double), "task cpu")
  call check(wp_energy(t, WP_RUN, WP_KIND_PLATFORM, WP_SCOPE_MACHINE, j) == WP_ERR_UNAVAILABLE, "platform")
  call ok(wp_task_count(t, n), "task_count")
  call check(n == 1, "one task")

  call ok(wp_intensity(t, WP_BASIS_AVERAGE, g), "intensity")
  call ok(wp_co2e(t, WP_RUN, WP_BASIS_AVERAGE, WP_SCOPE_MACHINE, co2e), "co2e")
  call check(near(co2e, 11.5_c_double / 3.6e6_c_double * g * 1.5_c_double), "average co2e")
  call ok(wp_provenance(t, WP_BASIS_AVERAGE, "zone", zone), "zone")
  call ok(wp_provenance(t, WP_BASIS_AVERAGE, "basis", basis), "basis")
  call ok(wp_provenance(t, WP_BASIS_AVERAGE, "resolution", resolution), "resolution")
  call check(zone == "FR", "zone " // zone)
  call check(basis == "average", "basis " // basis)
  call check(index(resolution, "country") > 0, "resolution " // resolution)
  print '(a, a, a, a)', "provenance zone=", zone, " basis=", basis
  print '(a, es24.17, a, es24.17)', "energy_j ", j, " co2e_g ", co2e

  call ok(wp_write_csv(t, WP_RUN), "write_csv")
  call ok(wp_write_csv(t, 0, file="tasks.csv"), "write_csv task")
  call ok(wp_write_json(t, trim(out) // "/record.json"), "write_json")
  print '(a, a)', "version ", wp_version()
  call wp_free(t)
  if (failures > 0) stop 1

contains

  logical function near(a, b)
    real(c_double), intent(in) :: a, b
    near = abs(a - b) <= 1e-9_c_double * abs(b) + 1e-12_c_double
  end function

  subroutine check(cond, what)
    logical, intent(in) :: cond
    character(len=*), intent(in) :: what
    if (.not. cond) then
      print *, "FAIL: ", what
      failures = failures + 1
    end if
  end subroutine

  subroutine ok(st, what)
    integer, intent(in) :: st
    character(len=*), intent(in) :: what
    if (st /= WP_OK) then
      print *, "FAIL: ", what, ": ", wp_errmsg(t)
      stop 1
    end if
  end subroutine

  ! Moves a 10-digit counter forward in place (stream access, no
  ! truncation): the source keeps the file open and re-reads it.
  subroutine add_uj(counter, uj)
    character(len=*), intent(in) :: counter
    integer(kind=8), intent(in) :: uj
    integer(kind=8) :: cur
    integer :: u
    character(len=10) :: text
    open(newunit=u, file=trim(tree) // "/" // counter, action="read")
    read(u, *) cur
    close(u)
    write(text, '(i10.10)') cur + uj
    open(newunit=u, file=trim(tree) // "/" // counter, access="stream", form="unformatted", &
         action="write", status="old", position="rewind")
    write(u, pos=1) text
    close(u)
  end subroutine

end program measure_f
