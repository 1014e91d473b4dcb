#include <ffi.h>

/* libffi's type descriptors are global variables; Swift needs their addresses. */
static inline ffi_type *plasticity_ffi_pointer(void) { return &ffi_type_pointer; }
static inline ffi_type *plasticity_ffi_double(void) { return &ffi_type_double; }
static inline ffi_type *plasticity_ffi_size(void) { return &ffi_type_uint64; }
static inline ffi_type *plasticity_ffi_void(void) { return &ffi_type_void; }
