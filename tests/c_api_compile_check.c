/* Compiled as strict C11 (tests/CMakeLists.txt): proves include/tandem/tandem.h is valid C. */
#include "tandem/tandem.h"

/* Called from c_api_test.cpp, so this C translation unit is linked and run. */
int32_t tandem_c_check_default_top_k(void);

int32_t tandem_c_check_default_top_k(void) {
  tandem_session_params p = tandem_session_default_params();
  tandem_token_callback cb = 0;
  (void)cb;
  return p.top_k;
}
