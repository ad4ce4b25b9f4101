/* Petrel C API: a thin layer over the C++ Session (include/petrel/petrel.hpp).
 * Every function returns PETREL_OK (0) or an error code; petrel_last_error() describes the last
 * error of the calling thread. Pointers returned by the session stay valid until the next run or
 * until the session is freed. */
#ifndef PETREL_PETREL_H
#define PETREL_PETREL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct petrel_session petrel_session;

typedef enum {
  PETREL_OK = 0,
  PETREL_INVALID_ARGUMENT = 1,
  PETREL_INVALID_MODEL = 2,
  PETREL_UNSUPPORTED = 3,
  PETREL_NOT_FOUND = 4,
  PETREL_IO_ERROR = 5,
  PETREL_OUT_OF_RANGE = 6,
  PETREL_INTERNAL = 7
} petrel_status;

/* Element types use ONNX's TensorProto.DataType numbers (1 = float32, 7 = int64, ...). */

const char* petrel_version(void);
const char* petrel_last_error(void);

petrel_status petrel_session_open(const char* model_path, int threads, petrel_session** out);
void petrel_session_free(petrel_session* session);

size_t petrel_input_count(const petrel_session* session);
size_t petrel_output_count(const petrel_session* session);
/* Name of input/output `index`, or NULL when out of range. */
const char* petrel_input_name(const petrel_session* session, size_t index);
const char* petrel_output_name(const petrel_session* session, size_t index);
/* Declared dtype and rank; dims (-1 = symbolic) are written to `dims` up to `max_rank`. */
petrel_status petrel_input_info(const petrel_session* session, size_t index, int32_t* dtype, size_t* rank,
                                int64_t* dims, size_t max_rank);

/* Binds caller memory (not copied) to input `name` until petrel_run returns. */
petrel_status petrel_set_input(petrel_session* session, const char* name, int32_t dtype, const int64_t* dims,
                               size_t rank, const void* data);
petrel_status petrel_run(petrel_session* session);
/* Output `index` of the last run: dtype, rank, dims (pointer into the session) and data. */
petrel_status petrel_get_output(const petrel_session* session, size_t index, int32_t* dtype, size_t* rank,
                                const int64_t** dims, const void** data);

#ifdef __cplusplus
}
#endif

#endif /* PETREL_PETREL_H */
