/* vec.c -- loops that must auto-vectorise (checked with -Rpass / -fopt-info-vec). */
#include "fast.h"

void gru_h_f(int n, float *h, const float *z, const float *a, const float *b)
{
    for (int i = 0; i < n; i++) h[i] = z[i] * h[i] + (1.0f - z[i]) * fast_tanhf(a[i] + b[i]);
}
void gru_z_f(int n, float *z, const float *a, const float *b)
{
    for (int i = 0; i < n; i++) z[i] = fast_sigmoidf(a[i] + b[i]);
}
void exp_f(int n, float *y, const float *x)
{
    for (int i = 0; i < n; i++) y[i] = fast_expf(x[i]);
}
void gru_h_d(int n, double *h, const double *z, const double *a, const double *b)
{
    for (int i = 0; i < n; i++) h[i] = z[i] * h[i] + (1.0 - z[i]) * fast_tanh(a[i] + b[i]);
}
void gru_z_d(int n, double *z, const double *a, const double *b)
{
    for (int i = 0; i < n; i++) z[i] = fast_sigmoid(a[i] + b[i]);
}
void exp_d(int n, double *y, const double *x)
{
    for (int i = 0; i < n; i++) y[i] = fast_exp(x[i]);
}
