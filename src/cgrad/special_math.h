/*
 * special_math.h: scalar C99 functions for cgrad's special and activation
 * pointwise ops, written to give the values PyTorch 2.13's CPU kernels give.
 *
 * Each op follows the algorithm PyTorch runs, step for step and in the same
 * precision, because matching PyTorch bit for bit means making the same
 * roundings in the same order. Where PyTorch computes float32 with its own
 * float algorithm there is a `_f` twin taking and returning float; where it
 * widens to double (zeta, the reflection term of digamma) the twin does too.
 * cgrad builds with -ffp-contract=off, so nothing is fused behind our back;
 * but PyTorch's x86 kernels are built for AVX2/AVX512 (with FMA, gcc's
 * default -ffp-contract=fast) and aarch64 ones always have FMA, so gcc fused
 * some a*b+c of PyTorch's code into one rounding. CG_FMA marks those places
 * (found by comparing with torch: the Chebyshev recurrence, logaddexp2's last
 * step): it is C99 fma() when CG_SPECIAL_MATH_FMA is 1 (the default, the
 * values PyTorch's x86-64 AVX2/AVX512 and aarch64 builds give), a*b+c when
 * it is 0 (PyTorch's DEFAULT-capability x86 kernels, ATEN_CPU_CAPABILITY=default).
 * Without -mfma, fma() is a libm call (glibc picks the FMA instruction).
 *
 * Sources of the algorithms and coefficients (published facts, own code):
 *  - digamma: Cephes psi (recurrence to x >= 10, asymptotic series with the
 *    Bernoulli coefficients B_2k/2k; reflection psi(1-x) - pi/tan(pi r) for
 *    x < 0 with r the fractional part; psi(10) as a constant), with
 *    PyTorch's special values: +-0 -> -+inf, negative integers -> NaN.
 *  - trigamma: reflection below 1/2, six recurrence steps, then the
 *    asymptotic series 1/x + 1/2x^2 + 1/6x^3 - 1/30x^5 + 1/42x^7.
 *  - zeta (Hurwitz): Cephes zeta (direct sum to a >= 9, then Euler-Maclaurin
 *    with the coefficients (2k)!/B_2k); PyTorch evaluates it in double even
 *    for float32, the first term q^-x alone in float.
 *  - polygamma(n >= 2): (-1)^(n+1) n! zeta(n+1, x), n! as exp(lgamma(n+1)).
 *  - erfinv: G. L. Pavlis's rational first guess (as PyTorch's calc_erfinv)
 *    refined by Newton steps on erf/erfc to the accuracy of MKL's ErfInv,
 *    which PyTorch's x86 builds actually run (see cg_erfinv).
 *  - i0, i0e, i1, i1e: Cephes Chebyshev expansions of exp(-x) I(x) on
 *    [0, 8] and of exp(-x) sqrt(x) I(x) on (8, inf); the float32 i1/i1e
 *    use PyTorch's shortened float tables (17 and 7 terms).
 *  - activations and binary ops: the formulas of PyTorch's CPU kernels
 *    (aten/src/ATen/native/cpu/Activation.cpp, BinaryOpsKernel.cpp,
 *    UnaryOpsKernel.cpp) and of its autograd formulas (derivatives.yaml,
 *    FunctionsManual.cpp), noted at each function.
 * Where PyTorch's vectorised path uses SLEEF's exp/log1p/tanh instead of
 * libm (logsigmoid, mish, softplus-like ops on long contiguous rows) this
 * header uses libm, as PyTorch's scalar path does: values then agree to
 * about an ulp, not always bit for bit (measured in tests/special_math_check.py).
 */
#ifndef CGRAD_SPECIAL_MATH_H
#define CGRAD_SPECIAL_MATH_H

#include <math.h>

#if defined(__GLIBC__) || defined(__APPLE__) || defined(__linux__) || defined(__FreeBSD__)
/* lgamma writes the global signgam (a data race between threads); the
 * reentrant _r forms do not. Declared here since math.h shows them only
 * under _DEFAULT_SOURCE/_GNU_SOURCE. */
double lgamma_r(double, int *);
float lgammaf_r(float, int *);
#define CG_HAVE_LGAMMA_R 1
#endif

#ifndef CG_SPECIAL_MATH_FMA
#define CG_SPECIAL_MATH_FMA 1
#endif
#if CG_SPECIAL_MATH_FMA
#define CG_FMA(a, b, c) fma(a, b, c)
#define CG_FMAF(a, b, c) fmaf(a, b, c)
#else
#define CG_FMA(a, b, c) ((a) * (b) + (c))
#define CG_FMAF(a, b, c) ((a) * (b) + (c))
#endif

#define CG_PI 3.14159265358979323846
#define CG_PI_F 3.14159265358979323846f

static inline double cg_lgamma(double x) {
#ifdef CG_HAVE_LGAMMA_R
    int sign;
    return lgamma_r(x, &sign);
#else
    return lgamma(x);
#endif
}

static inline float cg_lgamma_f(float x) {
#ifdef CG_HAVE_LGAMMA_R
    int sign;
    return lgammaf_r(x, &sign);
#else
    return lgammaf(x);
#endif
}

/* ---- digamma, trigamma, zeta, polygamma ---------------------------------- */

/* Asymptotic series of digamma: Bernoulli B_2k / 2k for k = 7..1. */
static const double cg_psi_series[7] = {
    8.33333333333333333333E-2, -2.10927960927960927961E-2,
    7.57575757575757575758E-3, -4.16666666666666666667E-3,
    3.96825396825396825397E-3, -8.33333333333333333333E-3,
    8.33333333333333333333E-2,
};
static const float cg_psi_series_f[7] = {
    8.33333333333333333333E-2f, -2.10927960927960927961E-2f,
    7.57575757575757575758E-3f, -4.16666666666666666667E-3f,
    3.96825396825396825397E-3f, -8.33333333333333333333E-3f,
    8.33333333333333333333E-2f,
};
#define CG_PSI_10 2.25175258906672110764

static inline double cg_digamma_positive(double x) {
    double result = 0, y = 0;
    while (x < 10) {
        result -= 1 / x;
        x += 1;
    }
    if (x == 10)
        return result + CG_PSI_10;
    if (x < 1.0e17) {
        double z = 1.0 / (x * x), p = 0;
        int i;
        for (i = 0; i < 7; i++)
            p = p * z + cg_psi_series[i];
        y = z * p;
    }
    return result + log(x) - (0.5 / x) - y;
}

static inline double cg_digamma(double x) {
    if (x == 0)
        return copysign(INFINITY, -x);
    if (x < 0) {
        double r, whole;
        if (x == trunc(x))
            return NAN;
        /* tan(pi r) of the fractional part r: pi * x loses bits for |x| > 1 */
        r = modf(x, &whole);
        return cg_digamma_positive(1 - x) - CG_PI / tan(CG_PI * r);
    }
    return cg_digamma_positive(x);
}

static inline float cg_digamma_positive_f(float x) {
    float result = 0, y = 0;
    while (x < 10) {
        result -= 1 / x;
        x += 1;
    }
    if (x == 10)
        return result + (float)CG_PSI_10;
    if (x < 1.0e17f) {
        float z = 1 / (x * x), p = 0;
        int i;
        for (i = 0; i < 7; i++)
            p = p * z + cg_psi_series_f[i];
        y = z * p;
    }
    return result + logf(x) - (0.5f / x) - y;
}

static inline float cg_digamma_f(float x) {
    if (x == 0)
        return copysignf(INFINITY, -x);
    if (x < 0) {
        double r, whole;
        float reflection;
        if (x == truncf(x))
            return NAN;
        /* PyTorch takes the reflection term in double, then rounds it */
        r = modf((double)x, &whole);
        reflection = (float)(CG_PI / tan(CG_PI * r));
        return cg_digamma_positive_f(1 - x) - reflection;
    }
    return cg_digamma_positive_f(x);
}

static inline double cg_trigamma(double x) {
    double sign = 1, result = 0, ixx;
    int i;
    if (x < 0.5) {
        double s = sin(CG_PI * x);
        sign = -1;
        result -= (CG_PI * CG_PI) / (s * s);
        x = 1 - x;
    }
    for (i = 0; i < 6; i++) {
        result += 1 / (x * x);
        x += 1;
    }
    ixx = 1 / (x * x);
    result += (1 + 1 / (2 * x) + ixx * (1. / 6 - ixx * (1. / 30 - ixx * (1. / 42)))) / x;
    return sign * result;
}

static inline float cg_trigamma_f(float x) {
    float sign = 1, result = 0, ixx;
    int i;
    if (x < 0.5f) {
        float s = sinf(CG_PI_F * x);
        sign = -1;
        result -= (CG_PI_F * CG_PI_F) / (s * s);
        x = 1 - x;
    }
    for (i = 0; i < 6; i++) {
        result += 1 / (x * x);
        x += 1;
    }
    ixx = 1 / (x * x);
    result += (1 + 1 / (2 * x) + ixx * (1.f / 6 - ixx * (1.f / 30 - ixx * (1.f / 42)))) / x;
    return sign * result;
}

/* Euler-Maclaurin coefficients (2k)! / B_2k of the Hurwitz zeta tail. */
static const double cg_zeta_em[12] = {
    12.0, -720.0, 30240.0, -1209600.0, 47900160.0,
    -1.8924375803183791606e9, 7.47242496e10, -2.950130727918164224e12,
    1.1646782814350067249e14, -4.5979787224074726105e15,
    1.8152105401943546773e17, -7.1661652561756670113e18,
};

/* Hurwitz zeta(x, q) = sum_k (k + q)^-x. first_term is q^-x: PyTorch's
 * float32 zeta takes it in float (powf) and all the rest in double. */
static inline double cg_zeta_core(double x, double q, double first_term) {
    const double machep = 1.11022302462515654042E-16;
    double a, b, k, s, t, w;
    int i;
    if (x == 1)
        return INFINITY;
    if (x < 1)
        return NAN;
    if (q <= 0) {
        if (q == floor(q))
            return INFINITY;
        if (x != floor(x))
            return NAN;
    }
    s = first_term;
    a = q;
    i = 0;
    b = 0;
    while (i < 9 || a <= 9.0) {
        i += 1;
        a += 1;
        b = pow(a, -x);
        s += b;
        if (-machep * s < b && b < machep * s)
            return s;
    }
    w = a;
    s += b * w / (x - 1);
    s -= 0.5 * b;
    a = 1;
    k = 0;
    for (i = 0; i < 12; i++) {
        a *= x + k;
        b /= w;
        t = a * b / cg_zeta_em[i];
        s = s + t;
        t = fabs(t / s);
        if (t < machep)
            return s;
        k += 1;
        a *= x + k;
        b /= w;
        k += 1;
    }
    return s;
}

static inline double cg_zeta(double x, double q) {
    if (x == 1 || x < 1 || (q <= 0 && (q == floor(q) || x != floor(x))))
        return cg_zeta_core(x, q, 0);
    return cg_zeta_core(x, q, pow(q, -x));
}

static inline float cg_zeta_f(float x, float q) {
    if (x == 1 || x < 1 || (q <= 0 && (q == floorf(q) || x != floorf(x))))
        return (float)cg_zeta_core(x, q, 0);
    return (float)cg_zeta_core(x, q, (double)powf(q, -x));
}

/* polygamma(n, x) for n >= 0; PyTorch's n >= 2 path multiplies in the
 * tensor's precision: (+-1) * exp(lgamma(n + 1)) * zeta(n + 1, x). */
static inline double cg_polygamma(int n, double x) {
    if (n == 0)
        return cg_digamma(x);
    if (n == 1)
        return cg_trigamma(x);
    return ((n % 2) ? 1.0 : -1.0) * exp(cg_lgamma((double)n + 1)) * cg_zeta((double)(n + 1), x);
}

static inline float cg_polygamma_f(int n, float x) {
    if (n == 0)
        return cg_digamma_f(x);
    if (n == 1)
        return cg_trigamma_f(x);
    return ((n % 2) ? 1.0f : -1.0f) * expf(cg_lgamma_f((float)n + 1)) * cg_zeta_f((float)(n + 1), x);
}

/* ---- erfinv -------------------------------------------------------------- */

/* PyTorch's x86 builds run erfinv through MKL's vdErfInv/vsErfInv (accurate
 * to about an ulp), not through calc_erfinv, whose Newton steps on
 * erf(x) - y cancel near +-1 (off by 6e-5 relative at 1 - 2^-53). So: Pavlis's
 * rational first guess (coefficients as in calc_erfinv), then Newton steps
 * on erf(x) = |y| below 1/2 and on erfc(x) = 1 - |y| (exact there) above,
 * all in double; float32 rounds the double result once. */
static inline double cg_erfinv_guess(double y_abs) {
    double z, num, dem;
    if (y_abs <= 0.7) {
        z = y_abs * y_abs;
        num = ((-0.140543331 * z + 0.914624893) * z - 1.645349621) * z + 0.886226899;
        dem = (((0.012229801 * z - 0.329097515) * z + 1.442710462) * z - 2.118377725) * z + 1.0;
        return y_abs * num / dem;
    }
    z = sqrt(-log((1.0 - y_abs) / 2.0));
    num = ((1.641345311 * z + 3.429567803) * z - 1.624906493) * z - 1.970840454;
    dem = (1.637067800 * z + 3.543889200) * z + 1.0;
    return num / dem;
}

static inline double cg_erfinv(double y) {
    const double two_over_sqrt_pi = 1.12837916709551257390;
    double y_abs = fabs(y), x;
    int i;
    if (!(y_abs < 1.0))     /* also NaN */
        return y_abs == 1.0 ? copysign(INFINITY, y) : NAN;
    if (y_abs == 0)
        return y;
    x = cg_erfinv_guess(y_abs);
    if (y_abs < 0.5) {
        if (y_abs < 1e-300)  /* erfinv(y) = y sqrt(pi)/2 to double precision */
            return y * (0.88622692545275801365 * 0x1p64) / 0x1p64;
        for (i = 0; i < 3; i++)
            x -= (erf(x) - y_abs) / (two_over_sqrt_pi * exp(-x * x));
    } else {
        double c = 1.0 - y_abs;    /* exact: y_abs in [1/2, 1) */
        for (i = 0; i < 3; i++)
            x += (erfc(x) - c) / (two_over_sqrt_pi * exp(-x * x));
    }
    return copysign(x, y);
}

static inline float cg_erfinv_f(float y) { return (float)cg_erfinv((double)y); }

/* ---- modified Bessel functions I0, I1 and their scaled forms ------------- */

/* exp(-x) I0(x) on [0, 8], Chebyshev in x/2 - 2. */
static const double cg_i0e_near[30] = {
    -4.41534164647933937950E-18, 3.33079451882223809783E-17,
    -2.43127984654795469359E-16, 1.71539128555513303061E-15,
    -1.16853328779934516808E-14, 7.67618549860493561688E-14,
    -4.85644678311192946090E-13, 2.95505266312963983461E-12,
    -1.72682629144155570723E-11, 9.67580903537323691224E-11,
    -5.18979560163526290666E-10, 2.65982372468238665035E-9,
    -1.30002500998624804212E-8, 6.04699502254191894932E-8,
    -2.67079385394061173391E-7, 1.11738753912010371815E-6,
    -4.41673835845875056359E-6, 1.64484480707288970893E-5,
    -5.75419501008210370398E-5, 1.88502885095841655729E-4,
    -5.76375574538582365885E-4, 1.63947561694133579842E-3,
    -4.32430999505057594430E-3, 1.05464603945949983183E-2,
    -2.37374148058994688156E-2, 4.93052842396707084878E-2,
    -9.49010970480476444210E-2, 1.71620901522208775349E-1,
    -3.04682672343198398683E-1, 6.76795274409476084995E-1,
};
/* exp(-x) sqrt(x) I0(x) on (8, inf), Chebyshev in 32/x - 2. */
static const double cg_i0e_far[25] = {
    -7.23318048787475395456E-18, -4.83050448594418207126E-18,
    4.46562142029675999901E-17, 3.46122286769746109310E-17,
    -2.82762398051658348494E-16, -3.42548561967721913462E-16,
    1.77256013305652638360E-15, 3.81168066935262242075E-15,
    -9.55484669882830764870E-15, -4.15056934728722208663E-14,
    1.54008621752140982691E-14, 3.85277838274214270114E-13,
    7.18012445138366623367E-13, -1.79417853150680611778E-12,
    -1.32158118404477131188E-11, -3.14991652796324136454E-11,
    1.18891471078464383424E-11, 4.94060238822496958910E-10,
    3.39623202570838634515E-9, 2.26666899049817806459E-8,
    2.04891858946906374183E-7, 2.89137052083475648297E-6,
    6.88975834691682398426E-5, 3.36911647825569408990E-3,
    8.04490411014108831608E-1,
};
/* exp(-x) I1(x) / x on [0, 8]. */
static const double cg_i1e_near[29] = {
    2.77791411276104639959E-18, -2.11142121435816608115E-17,
    1.55363195773620046921E-16, -1.10559694773538630805E-15,
    7.60068429473540693410E-15, -5.04218550472791168711E-14,
    3.22379336594557470981E-13, -1.98397439776494371520E-12,
    1.17361862988909016308E-11, -6.66348972350202774223E-11,
    3.62559028155211703701E-10, -1.88724975172282928790E-9,
    9.38153738649577178388E-9, -4.44505912879632808065E-8,
    2.00329475355213526229E-7, -8.56872026469545474066E-7,
    3.47025130813767847674E-6, -1.32731636560394358279E-5,
    4.78156510755005422638E-5, -1.61760815825896745588E-4,
    5.12285956168575772895E-4, -1.51357245063125314899E-3,
    4.15642294431288815669E-3, -1.05640848946261981558E-2,
    2.47264490306265168283E-2, -5.29459812080949914269E-2,
    1.02643658689847095384E-1, -1.76416518357834055153E-1,
    2.52587186443633654823E-1,
};
/* exp(-x) sqrt(x) I1(x) on (8, inf). */
static const double cg_i1e_far[25] = {
    7.51729631084210481353E-18, 4.41434832307170791151E-18,
    -4.65030536848935832153E-17, -3.20952592199342395980E-17,
    2.96262899764595013876E-16, 3.30820231092092828324E-16,
    -1.88035477551078244854E-15, -3.81440307243700780478E-15,
    1.04202769841288027642E-14, 4.27244001671195135429E-14,
    -2.10154184277266431302E-14, -4.08355111109219731823E-13,
    -7.19855177624590851209E-13, 2.03562854414708950722E-12,
    1.41258074366137813316E-11, 3.25260358301548823856E-11,
    -1.89749581235054123450E-11, -5.58974346219658380687E-10,
    -3.83538038596423702205E-9, -2.63146884688951950684E-8,
    -2.51223623787020892529E-7, -3.88256480887769039346E-6,
    -1.10588938762623716291E-4, -9.76109749136146840777E-3,
    7.78576235018280120474E-1,
};
/* float32 tables: i0e's are the double ones rounded to float; PyTorch cuts
 * i1e's to their last 17 and 7 terms for float32. */
#define CG_I1E_NEAR_F_SKIP 12
#define CG_I1E_FAR_F_SKIP 18

/* Clenshaw recurrence of a Chebyshev series (Cephes chbevl). */
static inline double cg_chbevl(double x, const double *c, int len) {
    double b0 = c[0], b1 = 0, b2 = 0;
    int i;
    for (i = 1; i < len; i++) {
        b2 = b1;
        b1 = b0;
        b0 = CG_FMA(x, b1, -b2) + c[i];
    }
    return 0.5 * (b0 - b2);
}

static inline float cg_chbevl_f(float x, const double *c, int len) {
    float b0 = (float)c[0], b1 = 0, b2 = 0;
    int i;
    for (i = 1; i < len; i++) {
        b2 = b1;
        b1 = b0;
        b0 = CG_FMAF(x, b1, -b2) + (float)c[i];
    }
    return 0.5f * (b0 - b2);
}

static inline double cg_i0(double x) {
    x = fabs(x);
    if (x <= 8.0)
        return exp(x) * cg_chbevl(x / 2.0 - 2.0, cg_i0e_near, 30);
    return exp(x) * cg_chbevl(32.0 / x - 2.0, cg_i0e_far, 25) / sqrt(x);
}

static inline float cg_i0_f(float x) {
    x = fabsf(x);
    if (x <= 8.0f)
        return expf(x) * cg_chbevl_f(x / 2.0f - 2.0f, cg_i0e_near, 30);
    return expf(x) * cg_chbevl_f(32.0f / x - 2.0f, cg_i0e_far, 25) / sqrtf(x);
}

static inline double cg_i0e(double x) {
    x = fabs(x);
    if (x <= 8.0)
        return cg_chbevl(x / 2.0 - 2.0, cg_i0e_near, 30);
    return cg_chbevl(32.0 / x - 2.0, cg_i0e_far, 25) / sqrt(x);
}

static inline float cg_i0e_f(float x) {
    x = fabsf(x);
    if (x <= 8.0f)
        return cg_chbevl_f(x / 2.0f - 2.0f, cg_i0e_near, 30);
    return cg_chbevl_f(32.0f / x - 2.0f, cg_i0e_far, 25) / sqrtf(x);
}

static inline double cg_i1(double x_in) {
    double x = fabs(x_in), out;
    if (x <= 8.0)
        out = exp(x) * x * cg_chbevl(x / 2.0 - 2.0, cg_i1e_near, 29);
    else
        out = exp(x) * cg_chbevl(32.0 / x - 2.0, cg_i1e_far, 25) / sqrt(x);
    return x_in < 0 ? -out : out;
}

static inline float cg_i1_f(float x_in) {
    float x = fabsf(x_in), out;
    if (x <= 8.0f)
        out = expf(x) * x * cg_chbevl_f(x / 2.0f - 2.0f, cg_i1e_near + CG_I1E_NEAR_F_SKIP, 17);
    else
        out = expf(x) * cg_chbevl_f(32.0f / x - 2.0f, cg_i1e_far + CG_I1E_FAR_F_SKIP, 7) / sqrtf(x);
    return x_in < 0 ? -out : out;
}

static inline double cg_i1e(double x_in) {
    double x = fabs(x_in), out;
    if (x <= 8.0)
        out = cg_chbevl(x / 2.0 - 2.0, cg_i1e_near, 29) * x;
    else
        out = cg_chbevl(32.0 / x - 2.0, cg_i1e_far, 25) / sqrt(x);
    return x_in < 0 ? -out : out;
}

static inline float cg_i1e_f(float x_in) {
    float x = fabsf(x_in), out;
    if (x <= 8.0f)
        out = cg_chbevl_f(x / 2.0f - 2.0f, cg_i1e_near + CG_I1E_NEAR_F_SKIP, 17) * x;
    else
        out = cg_chbevl_f(32.0f / x - 2.0f, cg_i1e_far + CG_I1E_FAR_F_SKIP, 7) / sqrtf(x);
    return x_in < 0 ? -out : out;
}


/* ---- sinc ---------------------------------------------------------------- */

/* sin(pi x) / (pi x), 1 at +-0; float32 computes in float. */
static inline double cg_sinc(double x) {
    double product;
    if (x == 0)
        return 1;
    product = CG_PI * x;
    return sin(product) / product;
}

static inline float cg_sinc_f(float x) {
    float product;
    if (x == 0)
        return 1;
    product = CG_PI_F * x;
    return sinf(product) / product;
}

/* PyTorch's sinc_backward, op by op in the tensor's dtype:
 * t = x*pi; s = x*x*pi; out = g * (t*cos(t) - sin(t)) / s; 0 where s == 0. */
static inline double cg_sinc_backward(double grad, double x) {
    double t = x * CG_PI, s = x * x * CG_PI;
    double out = grad * (t * cos(t) - sin(t)) / s;
    return s == 0 ? 0 : out;
}

static inline float cg_sinc_backward_f(float grad, float x) {
    float t = x * CG_PI_F, s = x * x * CG_PI_F;
    float out = grad * (t * cosf(t) - sinf(t)) / s;
    return s == 0 ? 0 : out;
}

/* ---- logit --------------------------------------------------------------- */

/* log(x / (1 - x)), inf at 1; eps >= 0 clamps x to [eps, 1 - eps] first
 * (NaN passes through), eps < 0 means no clamp. */
static inline double cg_logit(double x, double eps) {
    if (eps >= 0) {
        double hi = 1 - eps;
        x = x < eps ? eps : (x > hi ? hi : x);
    }
    return x == 1 ? INFINITY : log(x / (1 - x));
}

static inline float cg_logit_f(float x, float eps) {
    if (eps >= 0) {
        float hi = 1 - eps;
        x = x < eps ? eps : (x > hi ? hi : x);
    }
    return x == 1 ? INFINITY : logf(x / (1 - x));
}

/* PyTorch's logit_backward kernel: without eps, NaN outside [0, 1] and
 * grad * inf at 0 and 1; with eps, 0 outside [eps, 1 - eps]. */
static inline double cg_logit_backward(double grad, double x, double eps) {
    double lo = eps, hi = 1 - eps;
    if (eps < 0) {
        if (x < 0 || x > 1)
            return NAN;
    } else if (x < lo || x > hi) {
        return 0;
    }
    return (x == 0 || x == 1) ? grad * INFINITY : grad / (x * (1 - x));
}

static inline float cg_logit_backward_f(float grad, float x, float eps) {
    float lo = eps, hi = 1 - eps;
    if (eps < 0) {
        if (x < 0 || x > 1)
            return NAN;
    } else if (x < lo || x > hi) {
        return 0;
    }
    return (x == 0 || x == 1) ? grad * INFINITY : grad / (x * (1 - x));
}

/* the binary ops and activations, which use CG_FMA/CG_FMAF above */
#include "pointwise_math.h"

#endif /* CGRAD_SPECIAL_MATH_H */
