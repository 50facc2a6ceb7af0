/* Compiles against cglogics.h and links the simulator, proving the header matches the exports.
 * Linux:   gcc -Wall -Werror -o /tmp/cg-smoke smoke.c -I.. -L$T -lpispas_cashguard_sim && LD_LIBRARY_PATH=$T /tmp/cg-smoke
 *          (T = target/debug/deps)
 * Windows: x86_64-w64-mingw32-gcc -Wall -Werror -o cg-smoke.exe smoke.c -I.. $T/pispas_cashguard_sim.dll */
#include <stdio.h>
#include <string.h>
#include "cglogics.h"

static void on_status(int total, int status, int mode) { printf("status total=%d status=%d mode=%d\n", total, status, mode); }
static void on_error(int code, const char* text, const char* ext) { printf("error %d %s %s\n", code, text, ext); }
static void on_level(int type, int denom, int count, const char* t, const char* d, const char* m, const char* e) {
    (void)e;
    printf("level %d %s %d %s count=%d: %s\n", type, t, denom, d, count, m);
}
static void on_session(int info, int amount, const char* ext) { printf("session %d %d %s\n", info, amount, ext); }

int main(void) {
    char answer[CG_ANSWER_LEN], level[CG_LEVEL_LEN];
    int rest = -1, open = -1;
    if (registerEvents3CG(on_status, on_error, on_level, on_session) != CG_OK) return 1;
    if (initCG("COM1", "", answer) != CG_OK) { printf("init: %s\n", answer); return 1; }
    if (loginStrCG("1", "ana", answer) != CG_OK) return 1;
    if (isOpenCG(&open, answer) != CG_OK || open != 1) return 1;
    if (askPayout2CG(750, &rest, answer) != CG_OK || rest != 0) return 1;
    if (amountDueCG(1250, "T1", &rest, answer) != CG_BUSY || rest != 1250) return 1;
    if (regretCG(1, answer) != CG_OK) return 1;
    if (infoCG(level, answer) != CG_OK || strstr(level, "500:20") == NULL) return 1;
    if (resetCG(answer) != CG_OK || logoutCG(answer) != CG_OK || exitCG(answer) != CG_OK) return 1;
    printf("ok: %s\n", level);
    return 0;
}
