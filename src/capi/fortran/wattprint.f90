! The Fortran module `wattprint`: the C API (wattprint/wattprint.h) through
! iso_c_binding, with Fortran names and Fortran strings.
!
!   use wattprint
!   type(wp_tracker) :: t
!   integer :: st
!   real(c_double) :: joules
!   st = wp_new(t)                     ! or wp_new(t, opts)
!   st = wp_start(t)
!   ... the work ...
!   st = wp_stop(t)
!   st = wp_energy(t, WP_RUN, WP_KIND_TOTAL, WP_SCOPE_MACHINE, joules)
!   call wp_free(t)
!
! Every function returns the C API's status (WP_OK = 0); wp_errmsg(t) is
! the message of the last failed call. Strings come back as allocatable
! character values, copied: nothing borrowed outlives the call. Thread
! safety is the C API's: a tracker may be used from several threads.
module wattprint
  use, intrinsic :: iso_c_binding
  implicit none
  private

  integer(c_int), parameter, public :: WP_OK = 0, WP_ERR_INVALID_ARGUMENT = 1, WP_ERR_NOT_FOUND = 2, &
       WP_ERR_PERMISSION_DENIED = 3, WP_ERR_NOT_SUPPORTED = 4, WP_ERR_IO = 5, WP_ERR_CORRUPT = 6, &
       WP_ERR_STATE = 7, WP_ERR_UNAVAILABLE = 8, WP_ERR_NO_MEMORY = 9, WP_ERR_INTERNAL = 10
  integer(c_int), parameter, public :: WP_KIND_CPU = 0, WP_KIND_DRAM = 1, WP_KIND_GPU = 2, &
       WP_KIND_PLATFORM = 3, WP_KIND_TOTAL = 4
  integer(c_int), parameter, public :: WP_SCOPE_MACHINE = 0, WP_SCOPE_PROCESS = 1
  integer(c_int), parameter, public :: WP_BASIS_AVERAGE = 0, WP_BASIS_MARGINAL = 1, WP_BASIS_CHOSEN = 2
  integer(c_int), parameter, public :: WP_RUN = -1

  type, public :: wp_options
    type(c_ptr) :: p = c_null_ptr
  end type
  type, public :: wp_tracker
    type(c_ptr) :: p = c_null_ptr
  end type

  public :: wp_options_new, wp_options_set, wp_options_errmsg, wp_options_free
  public :: wp_new, wp_free, wp_errmsg, wp_start, wp_stop, wp_flush, wp_start_task, wp_stop_task
  public :: wp_task_count, wp_duration, wp_energy, wp_co2e, wp_intensity, wp_provenance
  public :: wp_write_csv, wp_write_json, wp_version, wp_mpi

  interface
    function c_strlen(s) bind(c, name="strlen")
      import :: c_ptr, c_size_t
      type(c_ptr), value :: s
      integer(c_size_t) :: c_strlen
    end function
    function c_version() bind(c, name="wp_version")
      import :: c_ptr
      type(c_ptr) :: c_version
    end function
    function c_options_new(out) bind(c, name="wp_options_new")
      import :: c_ptr, c_int
      type(c_ptr) :: out
      integer(c_int) :: c_options_new
    end function
    function c_options_set(o, k, v) bind(c, name="wp_options_set")
      import :: c_ptr, c_int, c_char
      type(c_ptr), value :: o
      character(kind=c_char) :: k(*), v(*)
      integer(c_int) :: c_options_set
    end function
    function c_options_errmsg(o) bind(c, name="wp_options_errmsg")
      import :: c_ptr
      type(c_ptr), value :: o
      type(c_ptr) :: c_options_errmsg
    end function
    subroutine c_options_free(o) bind(c, name="wp_options_free")
      import :: c_ptr
      type(c_ptr), value :: o
    end subroutine
    function c_tracker_new(o, out) bind(c, name="wp_tracker_new")
      import :: c_ptr, c_int
      type(c_ptr), value :: o
      type(c_ptr) :: out
      integer(c_int) :: c_tracker_new
    end function
    subroutine c_tracker_free(t) bind(c, name="wp_tracker_free")
      import :: c_ptr
      type(c_ptr), value :: t
    end subroutine
    function c_tracker_errmsg(t) bind(c, name="wp_tracker_errmsg")
      import :: c_ptr
      type(c_ptr), value :: t
      type(c_ptr) :: c_tracker_errmsg
    end function
    function c_start(t) bind(c, name="wp_tracker_start")
      import :: c_ptr, c_int
      type(c_ptr), value :: t
      integer(c_int) :: c_start
    end function
    function c_stop(t) bind(c, name="wp_tracker_stop")
      import :: c_ptr, c_int
      type(c_ptr), value :: t
      integer(c_int) :: c_stop
    end function
    function c_flush(t) bind(c, name="wp_tracker_flush")
      import :: c_ptr, c_int
      type(c_ptr), value :: t
      integer(c_int) :: c_flush
    end function
    function c_stop_task(t) bind(c, name="wp_tracker_stop_task")
      import :: c_ptr, c_int
      type(c_ptr), value :: t
      integer(c_int) :: c_stop_task
    end function
    function c_start_task(t, name) bind(c, name="wp_tracker_start_task")
      import :: c_ptr, c_int, c_char
      type(c_ptr), value :: t
      character(kind=c_char) :: name(*)
      integer(c_int) :: c_start_task
    end function
    function c_task_count(t, n) bind(c, name="wp_tracker_task_count")
      import :: c_ptr, c_int
      type(c_ptr), value :: t
      integer(c_int) :: n
      integer(c_int) :: c_task_count
    end function
    function c_duration(t, slice, s) bind(c, name="wp_tracker_duration_s")
      import :: c_ptr, c_int, c_double
      type(c_ptr), value :: t
      integer(c_int), value :: slice
      real(c_double) :: s
      integer(c_int) :: c_duration
    end function
    function c_energy(t, slice, kind, scope, j) bind(c, name="wp_tracker_energy_j")
      import :: c_ptr, c_int, c_double
      type(c_ptr), value :: t
      integer(c_int), value :: slice, kind, scope
      real(c_double) :: j
      integer(c_int) :: c_energy
    end function
    function c_co2e(t, slice, basis, scope, g) bind(c, name="wp_tracker_co2e_g")
      import :: c_ptr, c_int, c_double
      type(c_ptr), value :: t
      integer(c_int), value :: slice, basis, scope
      real(c_double) :: g
      integer(c_int) :: c_co2e
    end function
    function c_intensity(t, basis, g) bind(c, name="wp_tracker_intensity_g_per_kwh")
      import :: c_ptr, c_int, c_double
      type(c_ptr), value :: t
      integer(c_int), value :: basis
      real(c_double) :: g
      integer(c_int) :: c_intensity
    end function
    function c_provenance(t, basis, field, value) bind(c, name="wp_tracker_provenance")
      import :: c_ptr, c_int, c_char
      type(c_ptr), value :: t
      integer(c_int), value :: basis
      character(kind=c_char) :: field(*)
      type(c_ptr) :: value
      integer(c_int) :: c_provenance
    end function
    function c_write_csv(t, slice, dir, file) bind(c, name="wp_tracker_write_csv")
      import :: c_ptr, c_int
      type(c_ptr), value :: t
      integer(c_int), value :: slice
      type(c_ptr), value :: dir, file
      integer(c_int) :: c_write_csv
    end function
    function c_write_json(t, path) bind(c, name="wp_tracker_write_json")
      import :: c_ptr, c_int
      type(c_ptr), value :: t, path
      integer(c_int) :: c_write_json
    end function
    function c_mpi(t, rank, local_rank, measures) bind(c, name="wp_tracker_mpi")
      import :: c_ptr, c_int
      type(c_ptr), value :: t
      integer(c_int) :: rank, local_rank, measures
      integer(c_int) :: c_mpi
    end function
  end interface

contains

  ! A NUL-terminated copy of a Fortran string (trailing blanks dropped).
  pure function cstr(s) result(c)
    character(len=*), intent(in) :: s
    character(kind=c_char, len=len_trim(s) + 1) :: c
    c = trim(s) // c_null_char
  end function

  ! A Fortran copy of a C string.
  function fstr(p) result(s)
    type(c_ptr), intent(in) :: p
    character(len=:), allocatable :: s
    character(kind=c_char), pointer :: chars(:)
    integer :: i, n
    if (.not. c_associated(p)) then
      s = ""
      return
    end if
    n = int(c_strlen(p))
    call c_f_pointer(p, chars, [n])
    allocate(character(len=n) :: s)
    do i = 1, n
      s(i:i) = chars(i)
    end do
  end function

  function wp_version() result(v)
    character(len=:), allocatable :: v
    v = fstr(c_version())
  end function

  integer function wp_options_new(o)
    type(wp_options), intent(out) :: o
    wp_options_new = c_options_new(o%p)
  end function

  integer function wp_options_set(o, key, value)
    type(wp_options), intent(in) :: o
    character(len=*), intent(in) :: key, value
    wp_options_set = c_options_set(o%p, cstr(key), cstr(value))
  end function

  function wp_options_errmsg(o) result(m)
    type(wp_options), intent(in) :: o
    character(len=:), allocatable :: m
    m = fstr(c_options_errmsg(o%p))
  end function

  subroutine wp_options_free(o)
    type(wp_options), intent(inout) :: o
    call c_options_free(o%p)
    o%p = c_null_ptr
  end subroutine

  ! A tracker from options (absent: none). On failure t still holds the
  ! message (wp_errmsg) and must be released with wp_free.
  integer function wp_new(t, o)
    type(wp_tracker), intent(out) :: t
    type(wp_options), intent(in), optional :: o
    if (present(o)) then
      wp_new = c_tracker_new(o%p, t%p)
    else
      wp_new = c_tracker_new(c_null_ptr, t%p)
    end if
  end function

  subroutine wp_free(t)
    type(wp_tracker), intent(inout) :: t
    call c_tracker_free(t%p)
    t%p = c_null_ptr
  end subroutine

  function wp_errmsg(t) result(m)
    type(wp_tracker), intent(in) :: t
    character(len=:), allocatable :: m
    m = fstr(c_tracker_errmsg(t%p))
  end function

  integer function wp_start(t)
    type(wp_tracker), intent(in) :: t
    wp_start = c_start(t%p)
  end function

  integer function wp_stop(t)
    type(wp_tracker), intent(in) :: t
    wp_stop = c_stop(t%p)
  end function

  integer function wp_flush(t)
    type(wp_tracker), intent(in) :: t
    wp_flush = c_flush(t%p)
  end function

  integer function wp_start_task(t, name)
    type(wp_tracker), intent(in) :: t
    character(len=*), intent(in) :: name
    wp_start_task = c_start_task(t%p, cstr(name))
  end function

  integer function wp_stop_task(t)
    type(wp_tracker), intent(in) :: t
    wp_stop_task = c_stop_task(t%p)
  end function

  integer function wp_task_count(t, n)
    type(wp_tracker), intent(in) :: t
    integer, intent(out) :: n
    integer(c_int) :: cn
    wp_task_count = c_task_count(t%p, cn)
    n = int(cn)
  end function

  ! Seconds of a slice: WP_RUN, or a task's index (0 = the first).
  integer function wp_duration(t, slice, seconds)
    type(wp_tracker), intent(in) :: t
    integer, intent(in) :: slice
    real(c_double), intent(out) :: seconds
    wp_duration = c_duration(t%p, int(slice, c_int), seconds)
  end function

  ! Joules of a kind (WP_KIND_*) in a scope (WP_SCOPE_*); WP_ERR_UNAVAILABLE
  ! when not measured.
  integer function wp_energy(t, slice, kind, scope, joules)
    type(wp_tracker), intent(in) :: t
    integer, intent(in) :: slice, kind, scope
    real(c_double), intent(out) :: joules
    wp_energy = c_energy(t%p, int(slice, c_int), int(kind, c_int), int(scope, c_int), joules)
  end function

  ! Grams of CO2e under a basis (WP_BASIS_*) in a scope.
  integer function wp_co2e(t, slice, basis, scope, grams)
    type(wp_tracker), intent(in) :: t
    integer, intent(in) :: slice, basis, scope
    real(c_double), intent(out) :: grams
    wp_co2e = c_co2e(t%p, int(slice, c_int), int(basis, c_int), int(scope, c_int), grams)
  end function

  integer function wp_intensity(t, basis, g_per_kwh)
    type(wp_tracker), intent(in) :: t
    integer, intent(in) :: basis
    real(c_double), intent(out) :: g_per_kwh
    wp_intensity = c_intensity(t%p, int(basis, c_int), g_per_kwh)
  end function

  ! A provenance field ("zone", "source", "year", "basis", "resolution", ...).
  integer function wp_provenance(t, basis, field, value)
    type(wp_tracker), intent(in) :: t
    integer, intent(in) :: basis
    character(len=*), intent(in) :: field
    character(len=:), allocatable, intent(out) :: value
    type(c_ptr) :: p
    p = c_null_ptr
    wp_provenance = c_provenance(t%p, int(basis, c_int), cstr(field), p)
    value = fstr(p)
  end function

  ! Appends the slice's CSV row; dir and file absent: the configured ones.
  integer function wp_write_csv(t, slice, dir, file)
    type(wp_tracker), intent(in) :: t
    integer, intent(in) :: slice
    character(len=*), intent(in), optional :: dir, file
    character(kind=c_char, len=:), allocatable, target :: cdir, cfile
    type(c_ptr) :: pdir, pfile
    pdir = c_null_ptr
    pfile = c_null_ptr
    if (present(dir)) then
      cdir = cstr(dir)
      pdir = c_loc(cdir)
    end if
    if (present(file)) then
      cfile = cstr(file)
      pfile = c_loc(cfile)
    end if
    wp_write_csv = c_write_csv(t%p, int(slice, c_int), pdir, pfile)
  end function

  ! Writes the JSON record; path absent: the configured `json` key.
  integer function wp_write_json(t, path)
    type(wp_tracker), intent(in) :: t
    character(len=*), intent(in), optional :: path
    character(kind=c_char, len=:), allocatable, target :: cpath
    if (present(path)) then
      cpath = cstr(path)
      wp_write_json = c_write_json(t%p, c_loc(cpath))
    else
      wp_write_json = c_write_json(t%p, c_null_ptr)
    end if
  end function

  ! MPI rank, local rank (-1: unknown) and whether this tracker measures
  ! the node.
  integer function wp_mpi(t, rank, local_rank, measures_node)
    type(wp_tracker), intent(in) :: t
    integer, intent(out) :: rank, local_rank
    logical, intent(out) :: measures_node
    integer(c_int) :: r, l, m
    wp_mpi = c_mpi(t%p, r, l, m)
    rank = int(r)
    local_rank = int(l)
    measures_node = m /= 0
  end function

end module wattprint
