! Measures two regions of a Fortran program with the `wattprint` module and
! prints their energy and CO2e; a row for the whole run goes to
! ./emissions.csv.   region_f [COUNTRY]
program region_f
  use, intrinsic :: iso_c_binding, only: c_double
  use wattprint
  implicit none
  type(wp_options) :: o
  type(wp_tracker) :: t
  character(len=64) :: country
  character(len=:), allocatable :: zone
  integer :: st

  st = wp_options_new(o)
  if (command_argument_count() > 0) then
    call get_command_argument(1, country)
    if (wp_options_set(o, "country", trim(country)) /= WP_OK) then
      print *, "region_f: ", wp_options_errmsg(o)
      stop 2
    end if
  end if
  if (wp_new(t, o) /= WP_OK) then
    print *, "region_f: ", wp_errmsg(t)
    stop 1
  end if
  call wp_options_free(o)

  st = wp_start(t)
  st = wp_start_task(t, "short")
  print '(a, f16.12)', "sum ", work(20000000)
  st = wp_stop_task(t)
  st = wp_start_task(t, "long")
  print '(a, f16.12)', "sum ", work(80000000)
  st = wp_stop_task(t)
  st = wp_stop(t)

  call report(0, "short")
  call report(1, "long")
  call report(WP_RUN, "run")
  st = wp_provenance(t, WP_BASIS_CHOSEN, "zone", zone)
  print '(a, a)', "intensity: zone ", zone
  st = wp_write_csv(t, WP_RUN)
  call wp_free(t)

contains

  real(c_double) function work(n)
    integer, intent(in) :: n
    integer :: i
    work = 0
    do i = 1, n
      work = work + 1.0_c_double / (real(i, c_double) ** 2)
    end do
  end function

  subroutine report(slice, what)
    integer, intent(in) :: slice
    character(len=*), intent(in) :: what
    real(c_double) :: j, g
    if (wp_energy(t, slice, WP_KIND_TOTAL, WP_SCOPE_MACHINE, j) /= WP_OK .or. &
        wp_co2e(t, slice, WP_BASIS_CHOSEN, WP_SCOPE_MACHINE, g) /= WP_OK) then
      print '(a, a, a)', what, " not measured: ", wp_errmsg(t)
      return
    end if
    print '(a8, f12.3, a, f12.6, a)', what, j, " J", g, " g CO2e"
  end subroutine

end program region_f
